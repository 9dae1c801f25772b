using Sweep.Core.Models;
using Sweep.Training;

namespace Sweep.Grains;

/// <summary>Turns what the engine measured into the result record a trial reports.</summary>
public static class TrialMapping
{
    public static TrialResult Completed(
        string trialId, string sweepId, TrialParameters p, TrialReport r, string silo, int attempts) => new()
    {
        TrialId = trialId,
        SweepId = sweepId,
        Status = TrialStatus.Completed,
        Params = p,
        Accuracy = r.Accuracy,
        WeightSparsity = r.WeightSparsity,
        NodeSparsity = r.NodeSparsity,
        Layers = r.Layers,
        Epochs = r.Epochs,
        Seconds = r.Seconds,
        Device = r.Device,
        Silo = silo,
        Attempts = attempts,
    };
}
