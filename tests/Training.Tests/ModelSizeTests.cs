using Sweep.Core.Models;
using Sweep.Training.Compaction;
using Xunit;

namespace Sweep.Training.Tests;

/// <summary>The size a spec's model is refused by is counted from the spec: it must be what the built network has.</summary>
public sealed class ModelSizeTests
{
    [Theory]
    [InlineData("mlp", 1, 28, 28, 10)]
    [InlineData("mlp[500,150]", 3, 32, 32, 100)]
    [InlineData("lenet5", 1, 28, 28, 10)]
    [InlineData("vgg(4,M,8,M|16|bn|1)", 1, 28, 28, 10)]
    [InlineData("vgg(8,8,M,17,M,24,M|20,12|nobn|1)", 3, 32, 32, 10)]
    [InlineData("vgg11", 3, 32, 32, 10)]
    public void The_counted_parameters_are_the_built_networks(string model, int channels, int height, int width, int classes)
    {
        using var network = NetworkShape.Full(model, [channels, height, width], classes).Build();
        long built = network.parameters().Sum(p => p.numel());
        var size = ModelSize.Of(ModelSpec.Parse(model), [channels, height, width], classes, 64);
        Assert.Equal(built, size.Parameters);
        Assert.True(size.TrainingBytes > 16 * built, $"{size.TrainingBytes} bytes");
    }
}
