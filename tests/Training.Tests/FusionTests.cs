using Sweep.Core.Search;
using Sweep.Core.Models;
using Sweep.Core;
using Sweep.Training.Fusion;
using Xunit;

namespace Sweep.Training.Tests;

/// <summary>Trial fusion: trials trained together compute what each computes alone.</summary>
public sealed class FusionTests
{
    private static readonly TrainingOptions Cpu = new("cpu", 1);

    private static TrialSettings Small(string regularizer, double lambda, double rate, string method = "stochastic") => new()
    {
        Params = new() { Regularizer = regularizer, Lambda = lambda, PruneRate = rate, PruneMethod = method, Epochs = 2, Interval = 10,
            Seed = 5 },
        TrainLimit = 2_000,
    };

    private static readonly TrialSettings[] Mixed =
    [
        Small("l1", 1e-4, 0.9),
        Small("l2", 1e-3, 0.7, "magnitude"),
        Small("none", 0, 0.5),
        Small("l1l2", 1e-4, 0.8),
    ];

    private static void AssertSame(TrialReport alone, TrialReport fused)
    {
        Assert.Equal(alone.Epochs.Count, fused.Epochs.Count);
        // Pruning counts are exact; the rest may differ only by floating-point summation order.
        Assert.Equal(alone.Layers.Select(l => l.ZeroWeights), fused.Layers.Select(l => l.ZeroWeights));
        Assert.Equal(alone.WeightSparsity, fused.WeightSparsity, 12);
        for (int e = 0; e < alone.Epochs.Count; e++)
        {
            Assert.Equal(alone.Epochs[e].Loss, fused.Epochs[e].Loss, 1e-3 * Math.Abs(alone.Epochs[e].Loss));
            Assert.Equal(alone.Epochs[e].Accuracy, fused.Epochs[e].Accuracy, 0.01);
        }
        Assert.Equal(alone.NodeSparsity, fused.NodeSparsity, 0.02);
    }

    [Fact]
    public void Each_trial_of_a_fused_group_computes_what_it_computes_alone()
    {
        var fused = FusedTraining.Run(Mixed.Select(s => new FusedTrial(s)).ToArray(), Cpu);
        Assert.Equal(Mixed.Length, fused.Length);
        for (int i = 0; i < Mixed.Length; i++)
        {
            var alone = TrialRunner.Run(Mixed[i], Cpu, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Null(fused[i].Error);
            AssertSame(alone, fused[i].Report!);
        }
        // The group really holds different trials: different penalties, different losses.
        Assert.Equal(Mixed.Length, fused.Select(o => o.Report!.Epochs[0].Loss).Distinct().Count());
        Assert.All(fused, o => Assert.True(o.Report!.Accuracy > 0.5, $"accuracy {o.Report!.Accuracy}"));   // chance is 0.1
    }

    [Fact]
    public void The_sparse_cpu_path_matches_the_device_independent_tensor_path()
    {
        var trials = Mixed.Take(2).Select(s => new FusedTrial(s with { Params = s.Params with { Epochs = 1 } })).ToArray();
        var sparse = FusedTraining.Run(trials, Cpu);
        var tensors = FusedTraining.Run(trials, Cpu, tensorOps: true);
        for (int i = 0; i < trials.Length; i++) AssertSame(tensors[i].Report!, sparse[i].Report!);
    }

    [Fact]
    public void A_diverging_or_cancelled_trial_ends_alone_and_the_others_finish_unchanged()
    {
        using var cancel = new CancellationTokenSource();
        var healthy = Small("l2", 1e-4, 0.9);
        var group = new[]
        {
            new FusedTrial(healthy),
            new FusedTrial(Small("l2", 500, 0.9)),                           // w ← w − 0.05·500·w: explodes
            new FusedTrial(Small("l1", 1e-5, 0.5), e => cancel.Cancel(), cancel.Token),   // cancelled after its first epoch
        };
        var outcomes = FusedTraining.Run(group, Cpu);
        AssertSame(TrialRunner.Run(healthy, Cpu, cancellationToken: TestContext.Current.CancellationToken), outcomes[0].Report!);
        Assert.IsType<TrainingDivergedException>(outcomes[1].Error);
        Assert.IsType<OperationCanceledException>(outcomes[2].Error);
        Assert.Null(outcomes[2].Report);
    }

    [Fact]
    public void Only_trials_with_the_same_key_fuse()
    {
        var a = Small("l1", 1e-4, 0.9);
        Assert.Equal(FusedTraining.Key(a), FusedTraining.Key(a with { Params = a.Params with { Regularizer = "l2", Lambda = 1e-2,
            PruneRate = 0.5, PruneMethod = "magnitude", Temperature = 2 } }));
        Assert.NotEqual(FusedTraining.Key(a), FusedTraining.Key(a with { Params = a.Params with { Seed = 6 } }));
        Assert.NotEqual(FusedTraining.Key(a), FusedTraining.Key(a with { Params = a.Params with { Epochs = 3 } }));
        Assert.NotEqual(FusedTraining.Key(a), FusedTraining.Key(a with { Params = a.Params with { LearningRate = 0.1 } }));
        Assert.Null(FusedTraining.Key(a with { Params = a.Params with { Model = "lenet5" } }));
        Assert.Throws<ArgumentException>(() =>
            FusedTraining.Run([new FusedTrial(a), new FusedTrial(a with { Params = a.Params with { Seed = 6 } })], Cpu));
    }

    [Fact]
    public void Fused_sparsity_is_the_reference_measure_of_the_same_weights()
    {
        // A trained, pruned trial saved as an ordinary Mlp: measure its layers the reference way, and the fused way
        // from a stacked copy of the same weights (the first layer input-major, as the fused trainer stores it).
        string path = Path.Combine(Path.GetTempPath(), $"fused-sparsity-{Guid.NewGuid():N}.pt");
        try
        {
            var settings = Small("l1", 3e-4, 0.95, "magnitude");
            var report = TrialRunner.Run(settings, Cpu with { SaveModelPath = path },
                cancellationToken: TestContext.Current.CancellationToken);
            using var saved = Sweep.Training.Models.ModelFile.Load(path);
            var net = saved.Network;
            var layers = net.Layers;
            var reference = Sweep.Training.Metrics.SparsityReport.Measure(
                layers.Select(l => (l.Name, (TorchSharp.torch.Tensor)l.Weight)).ToArray());
            Assert.True(reference.NodeSparsity > 0, "the trial should have dead nodes");
            Assert.Equal(report.NodeSparsity, reference.NodeSparsity, 12);   // the fused trainer measured the same
            Assert.Equal(report.Layers, reference.Layers);
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".json"));
        }
    }

    [Fact]
    public void Fused_mlp_trials_of_other_widths_compute_what_they_compute_alone()
    {
        var wide = Mixed.Take(3).Select(s => s with { Params = s.Params with { Model = "mlp[500,150]" } }).ToArray();

        var fused = FusedTraining.Run(wide.Select(s => new FusedTrial(s)).ToArray(), Cpu);

        for (int i = 0; i < wide.Length; i++)
        {
            Assert.Null(fused[i].Error);
            var report = fused[i].Report!;
            Assert.Equal([784L * 500, 500L * 150, 150L * 10], report.Layers.Select(l => l.Weights));
            AssertSame(TrialRunner.Run(wide[i], Cpu, cancellationToken: TestContext.Current.CancellationToken), report);
            Assert.True(report.Accuracy > 0.5, $"accuracy {report.Accuracy}");   // chance is 0.1
        }
    }

    [Fact]
    public void An_mlp_of_500_and_150_units_learns_mnist_while_pruned_to_90_percent()
    {
        var wide = new TrialSettings
        {
            Params = new() { Model = "mlp[500,150]", Regularizer = "l2", Lambda = 1e-4, PruneRate = 0.9, Epochs = 3 },
        };

        var report = TrialRunner.Run(wide, Cpu, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0.9, report.WeightSparsity, 3);
        Assert.True(report.Accuracy > 0.9, $"accuracy {report.Accuracy}");
    }

    [Fact]
    public void An_mlp_of_three_hidden_layers_trains_and_prunes_to_its_rate()
    {
        var deep = new TrialSettings
        {
            Params = new() { Model = "mlp[256,128,64]", Regularizer = "l1", Lambda = 1e-4, PruneRate = 0.8, Epochs = 3 },
        };

        var report = TrialRunner.Run(deep, Cpu, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["fc1", "fc2", "fc3", "fc4"], report.Layers.Select(l => l.Name));
        Assert.Equal([256L, 128, 64, 0], report.Layers.Select(l => l.Nodes));
        Assert.Equal(0.8, report.WeightSparsity, 3);
        Assert.True(report.Accuracy > 0.85, $"accuracy {report.Accuracy}");
    }

    [Fact]
    public void A_trial_that_fails_in_a_group_trained_one_after_another_fails_alone()
    {
        var lenet = new TrialSettings { Params = new() { Model = "lenet5", Epochs = 1 }, TrainLimit = 500 };
        // /proc takes no new folders: saving this trial's model fails after it trained.
        var group = new[] { new FusedTrial(lenet, SaveModelPath: "/proc/sweep-no/model.pt"), new FusedTrial(lenet) };

        var outcomes = Models.ModelFamilies.Get("lenet5").Train(group, Cpu);

        Assert.NotNull(outcomes[0].Error);
        Assert.Null(outcomes[1].Error);
        var alone = TrialRunner.Run(lenet, Cpu, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(alone.Accuracy, outcomes[1].Report!.Accuracy);
        Assert.Equal(alone.Epochs[0].Loss, outcomes[1].Report!.Epochs[0].Loss);
    }

    [Fact]
    public void A_small_vgg_with_batch_norm_learns_mnist_and_counts_dead_filters()
    {
        var vgg = new TrialSettings
        {
            Params = new()
            {
                Model = "vgg(8,M,16,M|32|bn|1)", Regularizer = "l1", Lambda = 1e-4, PruneRate = 0.8, Epochs = 2, LearningRate = 0.02,
            },
            TrainLimit = 4_000,
        };

        var report = TrialRunner.Run(vgg, Cpu, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["conv1", "conv2", "fc1", "fc2"], report.Layers.Select(l => l.Name));
        Assert.Equal([8L, 16, 32, 0], report.Layers.Select(l => l.Nodes));
        Assert.Equal([1L * 8 * 9, 8L * 16 * 9, 16L * 7 * 7 * 32, 32L * 10], report.Layers.Select(l => l.Weights));
        Assert.Equal(0.8, report.WeightSparsity, 2);
        Assert.True(report.Accuracy > 0.85, $"accuracy {report.Accuracy}");
    }
}
