using Sweep.Grains;
using Xunit;

namespace Sweep.Grains.Tests;

public sealed class SiloSlotsTests
{
    [Theory]
    [InlineData("mlp", true)]
    [InlineData("mlp[500,150]", true)]
    [InlineData("mlp[256,128,64]", false)]
    [InlineData("mlp[64]", false)]
    [InlineData("lenet5", false)]
    public void A_model_fuses_where_silos_advertise_its_family_and_depth(string model, bool fuses)
    {
        var slots = new SiloSlots(8, 0, new Dictionary<string, int>(), 2, ["mlp/2"]);
        Assert.Equal(fuses, slots.Fuses(model));
    }


    [Fact]
    public void Silos_advertise_the_family_and_depth_their_trainer_fuses()
    {
        Assert.Equal(["mlp/2"], Sweep.Training.Models.ModelFamilies.Fusing);
        Assert.True(Sweep.Training.Fusion.FusedTraining.Supports("mlp[500,150]"));
        Assert.False(Sweep.Training.Fusion.FusedTraining.Supports("mlp[256,128,64]"));
    }
}
