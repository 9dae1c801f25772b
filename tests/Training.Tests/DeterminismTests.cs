using Sweep.Core.Models;
using Sweep.Training.Fusion;
using Xunit;

namespace Sweep.Training.Tests;

/// <summary>
/// Same settings, same thread count: the same numbers, bit for bit, whether a trial trains alone, fused with others or
/// beside another trial that trains on another thread count in the same process (docs/algorithm.md, "Determinism").
/// </summary>
public sealed class DeterminismTests
{
    private static readonly TrainingOptions OneThread = new("cpu", 1);

    private static TrialSettings Trial(string model, double rate, string regularizer = "l1", int epochs = 1) => new()
    {
        Params = new()
        {
            Model = model, Regularizer = regularizer, Lambda = 1e-4, PruneRate = rate, Epochs = epochs, Interval = 5, Seed = 3,
        },
        TrainLimit = 1_000,
    };

    private static void AssertIdentical(TrialReport expected, TrialReport actual, string what)
    {
        Assert.True(expected.Accuracy == actual.Accuracy, $"{what}: accuracy {expected.Accuracy:R} vs {actual.Accuracy:R}");
        Assert.True(expected.WeightSparsity == actual.WeightSparsity, $"{what}: weight sparsity");
        Assert.True(expected.NodeSparsity == actual.NodeSparsity, $"{what}: node sparsity");
        Assert.Equal(expected.Epochs.Count, actual.Epochs.Count);
        for (int e = 0; e < expected.Epochs.Count; e++)
            Assert.True(expected.Epochs[e].Loss == actual.Epochs[e].Loss,
                $"{what}: epoch {e + 1} loss {expected.Epochs[e].Loss:R} vs {actual.Epochs[e].Loss:R}");
        Assert.Equal(expected.Layers, actual.Layers);
    }

    /// <summary>The trial alone, then again while another trial trains on two threads beside it.</summary>
    private static void AloneAndBeside(TrialSettings settings, TrialSettings other)
    {
        var token = TestContext.Current.CancellationToken;
        var alone = TrialRunner.Run(settings, OneThread, cancellationToken: token);
        using var start = new Barrier(2);
        var beside = new Thread(() =>
        {
            start.SignalAndWait(token);
            TrialRunner.Run(other, new TrainingOptions("cpu", 2), cancellationToken: token);
        });
        beside.Start();
        start.SignalAndWait(token);
        var again = TrialRunner.Run(settings, OneThread, cancellationToken: token);
        beside.Join();
        AssertIdentical(alone, again, settings.Params.Model);
    }

    [Fact]
    public void An_mlp_trial_computes_the_same_alone_fused_sparse_and_beside_others()
    {
        // Rate 0.98 takes both layers onto the sparse path; 0.5 stays dense.
        TrialSettings[] trials = [Trial("mlp", 0.98, epochs: 2), Trial("mlp", 0.5, "l2", epochs: 2), Trial("mlp", 0.9, "none", epochs: 2)];
        var fused = FusedTraining.Run(trials.Select(t => new FusedTrial(t)).ToArray(), OneThread);
        var pair = FusedTraining.Run(trials.Skip(1).Select(t => new FusedTrial(t)).ToArray(), new TrainingOptions("cpu", 2));
        for (int i = 0; i < trials.Length; i++)
        {
            var alone = TrialRunner.Run(trials[i], OneThread, cancellationToken: TestContext.Current.CancellationToken);
            AssertIdentical(alone, fused[i].Report!, $"mlp trial {i} fused in three");
            if (i > 0) AssertIdentical(alone, pair[i - 1].Report!, $"mlp trial {i} fused in two, on two threads");
        }
        Assert.True(fused[0].SparseFrom![0] >= 0, "the 0.98 trial trains its first layer sparse");
        AloneAndBeside(trials[0], Trial("lenet5", 0.5));
    }

    [Fact]
    public void A_lenet5_trial_computes_the_same_alone_and_beside_others() =>
        AloneAndBeside(Trial("lenet5", 0.8), Trial("vgg(4,M,8,M|16|bn|1)", 0.5));

    [Fact]
    public void A_vgg_trial_computes_the_same_alone_and_beside_others() =>
        AloneAndBeside(Trial("vgg(4,M,8,M|16|bn|1)", 0.8), Trial("lenet5", 0.5));
}
