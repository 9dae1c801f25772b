using Sweep.Core.Models;

namespace Sweep.Training;

/// <summary>What a finished trial measured.</summary>
public sealed record TrialReport(
    double Accuracy,
    double WeightSparsity,
    double NodeSparsity,
    IReadOnlyList<LayerRecord> Layers,
    IReadOnlyList<EpochRecord> Epochs,
    double Seconds,
    string Device);

/// <summary>The loss became NaN or infinite: the trial cannot go on.</summary>
public sealed class TrainingDivergedException(int epoch, double loss)
    : Exception($"training diverged in epoch {epoch}: loss is {loss}")
{
    public int Epoch { get; } = epoch;
}
