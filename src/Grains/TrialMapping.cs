using Sweep.Grains.Models;
using Sweep.Training;
using Sweep.Training.Data;

namespace Sweep.Grains;

/// <summary>Translates between the wire records and the training engine's own types.</summary>
public static class TrialMapping
{
    public static TrialSettings ToSettings(TrialParameters p, DatasetRef dataset, int? trainLimit = null) => new()
    {
        Model = p.Model,
        Regularizer = p.Regularizer,
        Lambda = p.Lambda,
        PruneRate = p.PruneRate,
        PruneMethod = p.PruneMethod,
        Temperature = p.Temperature,
        Interval = p.Interval,
        RampFraction = p.RampFraction,
        Epochs = p.Epochs,
        BatchSize = p.BatchSize,
        LearningRate = p.LearningRate,
        Momentum = p.Momentum,
        Seed = p.Seed,
        Dataset = dataset.Name is { } name ? DatasetSource.Named(name) : DatasetSource.Files(dataset.Images!, dataset.Labels!),
        TrainLimit = trainLimit,
    };

    public static EpochRecord ToRecord(EpochReport e) =>
        new(e.Epoch, e.Loss, e.Accuracy, e.WeightSparsity, e.NodeSparsity, e.Seconds);

    public static TrialResult Completed(string trialId, string sweepId, TrialParameters p, TrialReport r, string silo, int attempts) => new()
    {
        TrialId = trialId,
        SweepId = sweepId,
        Status = TrialStatus.Completed,
        Params = p,
        Accuracy = r.Accuracy,
        WeightSparsity = r.WeightSparsity,
        NodeSparsity = r.NodeSparsity,
        Layers = r.Layers.Select(l => new LayerRecord(l.Name, l.Weights, l.ZeroWeights, l.Nodes, l.DeadNodes)).ToArray(),
        Epochs = r.Epochs.Select(ToRecord).ToArray(),
        Seconds = r.Seconds,
        Device = r.Device,
        Silo = silo,
        Attempts = attempts,
    };
}
