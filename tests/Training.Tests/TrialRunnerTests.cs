using Sweep.Core.Data;
using Sweep.Core.Search;
using Sweep.Core.Models;
using Sweep.Core;
using Sweep.Training.Data;
using Xunit;

namespace Sweep.Training.Tests;

public sealed class TrialRunnerTests
{
    private static readonly TrainingOptions Cpu = new("cpu");

    [Fact]
    public void A_two_epoch_mlp_trial_on_mnist10k_learns()
    {
        var settings = new TrialSettings
        {
            Params = new() { Model = "mlp", Regularizer = "l2", Lambda = 1e-4, PruneRate = 0.9, Epochs = 2 },
        };
        var epochs = new List<EpochRecord>();
        var report = TrialRunner.Run(settings, Cpu, epochs.Add);

        Assert.True(report.Accuracy >= 0.85, $"accuracy {report.Accuracy}");
        Assert.Equal(2, epochs.Count);
        Assert.Equal(report.Epochs, epochs);
        // 2 epochs × 125 steps, ramp 175: the rate is reached inside epoch 2.
        Assert.Equal(0.9, report.WeightSparsity, 3);
        Assert.Equal(266_200, report.Layers.Sum(l => l.Weights));
        Assert.True(epochs[1].Loss < epochs[0].Loss);
        Assert.Equal("cpu", report.Device);
    }

    [Fact]
    public void Masks_stay_zero_after_the_ramp_while_training_goes_on()
    {
        // Ramp ends in epoch 1 (rampFraction 0.25 of 3 × 32 steps); epochs 2 and 3 fine-tune with fixed masks.
        var settings = new TrialSettings
        {
            Params = new() { PruneRate = 0.8, Epochs = 3, RampFraction = 0.25, Regularizer = "none", Lambda = 0 }, TrainLimit = 2_000,
        };
        var report = TrialRunner.Run(settings, Cpu);
        long weights = report.Layers.Sum(l => l.Weights);
        long exactZeros = report.Layers.Sum(l => l.Weights - (long)Math.Round(0.2 * l.Weights, MidpointRounding.ToEven));
        Assert.Equal(exactZeros, report.Layers.Sum(l => l.ZeroWeights));
        Assert.All(report.Epochs, e => Assert.Equal((double)exactZeros / weights, e.WeightSparsity, 12));
    }

    [Fact]
    public void Without_pruning_no_weight_is_zero()
    {
        var report = TrialRunner.Run(new TrialSettings { Params = new() { PruneMethod = "none", Epochs = 1 }, TrainLimit = 1_000 }, Cpu);
        Assert.Equal(0, report.WeightSparsity);
        Assert.Equal(0, report.NodeSparsity);
    }

    [Fact]
    public void The_same_seed_gives_the_same_result_and_another_seed_a_different_one()
    {
        var settings = new TrialSettings { Params = new() { Epochs = 1, Seed = 11 }, TrainLimit = 1_500 };
        var a = TrialRunner.Run(settings, Cpu);
        var b = TrialRunner.Run(settings, Cpu);
        var c = TrialRunner.Run(settings with { Params = settings.Params with { Seed = 12 } }, Cpu);
        Assert.Equal(a.Accuracy, b.Accuracy);
        Assert.Equal(a.Epochs[0].Loss, b.Epochs[0].Loss);
        Assert.Equal(a.Layers, b.Layers);
        Assert.NotEqual(a.Epochs[0].Loss, c.Epochs[0].Loss);
    }

    [Fact]
    public void A_lenet5_trial_prunes_and_counts_conv_channels_as_nodes()
    {
        var report = TrialRunner.Run(
            new TrialSettings { Params = new() { Model = "lenet5", Epochs = 1, PruneRate = 0.5, Regularizer = "l1", Lambda = 1e-5 } }, Cpu);
        Assert.Equal(new[] { "conv1", "conv2", "fc1", "fc2", "fc3" }, report.Layers.Select(l => l.Name));
        Assert.Equal(226, report.Layers.Sum(l => l.Nodes));
        Assert.Equal(0.5, report.WeightSparsity, 2);
        Assert.True(report.Accuracy > 0.75, $"accuracy {report.Accuracy}");
    }

    [Fact]
    public void Cancellation_stops_a_trial_between_steps()
    {
        using var cts = new CancellationTokenSource();
        int epochsSeen = 0;
        var settings = new TrialSettings { Params = new() { Epochs = 50 }, TrainLimit = 2_000 };
        Assert.ThrowsAny<OperationCanceledException>(() =>
            TrialRunner.Run(settings, Cpu, _ => { if (++epochsSeen == 1) cts.Cancel(); }, cts.Token));
        Assert.Equal(1, epochsSeen);
    }

    [Fact]
    public void A_diverging_trial_fails_with_its_reason()
    {
        var settings = new TrialSettings
        {
            Params = new() { Epochs = 2, Regularizer = "l2", Lambda = 1e6, LearningRate = 1 }, TrainLimit = 1_000,
        };
        var e = Assert.Throws<TrainingDivergedException>(() => TrialRunner.Run(settings, Cpu));
        Assert.Contains("diverged", e.Message);
    }

    [Theory]
    [InlineData("model", "nope")]
    [InlineData("lambda", "-1")]
    [InlineData("pruneRate", "1.5")]
    public void Bad_settings_name_their_field(string field, string value)
    {
        var s = field switch
        {
            "model" => new TrialSettings { Params = new() { Model = value } },
            "lambda" => new TrialSettings { Params = new() { Lambda = double.Parse(value) } },
            _ => new TrialSettings { Params = new() { PruneRate = double.Parse(value) } },
        };
        var e = Assert.Throws<InvalidSettingException>(() => TrialRunner.Run(s, Cpu));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void A_missing_dataset_file_is_named()
    {
        var s = new TrialSettings { Dataset = new DatasetRef { Images = "/nonexistent/images.gz", Labels = "/nonexistent/labels.gz" } };
        var e = Assert.Throws<DatasetException>(() => TrialRunner.Run(s, Cpu));
        Assert.Contains("/nonexistent/images.gz", e.Message);
    }
}
