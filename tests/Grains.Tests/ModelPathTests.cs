using Sweep.Training;
using Sweep.Grains.Slots;
using Xunit;

namespace Sweep.Grains.Tests;

public sealed class ModelPathTests
{
    [Fact]
    public void Cluster_silos_keep_each_sweeps_models_in_a_folder_of_its_own_and_the_embedded_run_in_one()
    {
        var o = new TrialSlotOptions { ModelsDirectory = "/shared/models" };
        Assert.Equal("/shared/models/grid-20250101-000000-abcd/t0123456789ab.pt",
            o.ModelPath("grid-20250101-000000-abcd", "t0123456789ab"));
        o.ModelsPerSweep = false;
        Assert.Equal("/shared/models/t0123456789ab.pt", o.ModelPath("grid-20250101-000000-abcd", "t0123456789ab"));
    }

    [Fact]
    public void A_silo_without_a_models_directory_has_no_model_path()
    {
        Assert.Null(new TrialSlotOptions().ModelPath("s", "t1"));
    }

    [Theory]
    [InlineData("../../etc", "t1")]
    [InlineData("..", "..")]
    [InlineData("a/b", "c\\d")]
    [InlineData(".", "/etc/passwd")]
    public void Ids_from_clients_never_leave_the_models_directory(string sweepId, string trialId)
    {
        string path = new TrialSlotOptions { ModelsDirectory = "/shared/models" }.ModelPath(sweepId, trialId)!;
        Assert.StartsWith("/shared/models/", path);
        Assert.Equal(2, Path.GetRelativePath("/shared/models", path).Split('/').Length);
        Assert.EndsWith(".pt", path);
    }

    [Fact]
    public void A_bad_models_directory_is_named_at_start_up()
    {
        Assert.StartsWith("Sweep:ModelsDirectory", new TrialSlotOptions { ModelsDirectory = " " }.Validate());
        string file = Path.GetTempFileName();
        try { Assert.StartsWith("Sweep:ModelsDirectory is a file", new TrialSlotOptions { ModelsDirectory = file }.Validate()); }
        finally { File.Delete(file); }
        Assert.Null(new TrialSlotOptions { ModelsDirectory = "/shared/models" }.Validate());
    }
}
