using Sweep.Training.Metrics;

namespace Sweep.Training;

/// <summary>One epoch's record: training loss (penalty included), test accuracy, sparsity, seconds.</summary>
public sealed record EpochReport(int Epoch, double Loss, double Accuracy, double WeightSparsity, double NodeSparsity, double Seconds);

/// <summary>What a finished trial measured.</summary>
public sealed record TrialReport(
    double Accuracy,
    double WeightSparsity,
    double NodeSparsity,
    IReadOnlyList<LayerSparsity> Layers,
    IReadOnlyList<EpochReport> Epochs,
    double Seconds,
    string Device);

/// <summary>The loss became NaN or infinite: the trial cannot go on.</summary>
public sealed class TrainingDivergedException(int epoch, double loss)
    : Exception($"training diverged in epoch {epoch}: loss is {loss}")
{
    public int Epoch { get; } = epoch;
}
