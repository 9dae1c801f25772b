using Sweep.Training.Data;
using Sweep.Training.Models;
using Sweep.Training.Pruning;
using Sweep.Training.Regularization;

namespace Sweep.Training;

/// <summary>Everything one trial computes from: the point of the sweep plus the fixed training settings.</summary>
public sealed record TrialSettings
{
    public string Model { get; init; } = "mlp";
    public string Regularizer { get; init; } = "l2";
    public double Lambda { get; init; } = 1e-4;
    public double PruneRate { get; init; } = 0.9;
    public string PruneMethod { get; init; } = "stochastic";
    public double Temperature { get; init; } = 0.5;
    public int Interval { get; init; } = 50;
    public double RampFraction { get; init; } = 0.7;
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public long Seed { get; init; }
    public DatasetSource Dataset { get; init; } = DatasetSource.Named(DatasetSource.Mnist10k);
    /// <summary>Train on only the first N samples of the train split (tests and smoke runs); null = all.</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Checks every field; the exception names the field.</summary>
    public void Validate()
    {
        if (!PrunableNetwork.Known.Contains(Model)) throw Invalid("model", $"unknown model '{Model}' (known: {string.Join(", ", PrunableNetwork.Known)})");
        if (!Regularization.Regularizer.Known.Contains(Regularizer)) throw Invalid("regularizer", $"unknown regularizer '{Regularizer}' (known: {string.Join(", ", Regularization.Regularizer.Known)})");
        if (!double.IsFinite(Lambda) || Lambda < 0) throw Invalid("lambda", $"must be a finite number ≥ 0, got {Lambda}");
        if (Regularizer != "none" && Lambda == 0) throw Invalid("lambda", $"must be > 0 for regularizer {Regularizer}");
        if (!(PruneRate >= 0 && PruneRate < 1)) throw Invalid("pruneRate", $"must be in [0, 1), got {PruneRate}");
        if (!Pruner.Known.Contains(PruneMethod)) throw Invalid("pruneMethod", $"unknown prune method '{PruneMethod}' (known: {string.Join(", ", Pruner.Known)})");
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw Invalid("temperature", $"must be > 0, got {Temperature}");
        if (Interval < 1) throw Invalid("interval", $"must be ≥ 1, got {Interval}");
        if (!(RampFraction > 0 && RampFraction <= 1)) throw Invalid("rampFraction", $"must be in (0, 1], got {RampFraction}");
        if (Epochs < 0 || Epochs > 10_000) throw Invalid("epochs", $"must be in [0, 10000], got {Epochs}");
        if (BatchSize < 1 || BatchSize > 65_536) throw Invalid("batchSize", $"must be in [1, 65536], got {BatchSize}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw Invalid("learningRate", $"must be > 0, got {LearningRate}");
        if (!(Momentum >= 0 && Momentum < 1)) throw Invalid("momentum", $"must be in [0, 1), got {Momentum}");
        if (TrainLimit is < 1) throw Invalid("trainLimit", $"must be ≥ 1, got {TrainLimit}");
    }

    private static InvalidSettingException Invalid(string field, string message) => new(field, message);
}

/// <summary>A trial setting that cannot be used; <see cref="Field"/> names it.</summary>
public sealed class InvalidSettingException(string field, string message) : Exception($"{field}: {message}")
{
    public string Field { get; } = field;
}
