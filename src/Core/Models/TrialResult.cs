namespace Sweep.Core.Models;

/// <summary>How a trial ended (or where it stands).</summary>
public enum TrialStatus { Pending, Running, Completed, Failed, Cancelled, Stopped }

/// <summary>Weight and node counts of one prunable layer.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.LayerRecord")]
public sealed record LayerRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] long Weights,
    [property: Id(2)] long ZeroWeights,
    [property: Id(3)] long Nodes,
    [property: Id(4)] long DeadNodes);

/// <summary>One epoch of a trial.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.EpochRecord")]
public sealed record EpochRecord(
    [property: Id(0)] int Epoch,
    [property: Id(1)] double Loss,
    [property: Id(2)] double Accuracy,
    [property: Id(3)] double WeightSparsity,
    [property: Id(4)] double NodeSparsity,
    [property: Id(5)] double Seconds);

/// <summary>The result of one trial: one line of trials.jsonl, or what `sweep trial --json` prints.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialResult")]
public sealed record TrialResult
{
    [Id(0)] public string TrialId { get; init; } = "";
    [Id(1)] public string SweepId { get; init; } = "";
    [Id(2)] public TrialStatus Status { get; init; }
    [Id(3)] public TrialParameters Params { get; init; } = new();
    [Id(4)] public double? Accuracy { get; init; }
    [Id(5)] public double? WeightSparsity { get; init; }
    [Id(6)] public double? NodeSparsity { get; init; }
    [Id(7)] public IReadOnlyList<LayerRecord> Layers { get; init; } = [];
    [Id(8)] public IReadOnlyList<EpochRecord> Epochs { get; init; } = [];
    [Id(9)] public double Seconds { get; init; }
    [Id(10)] public string Device { get; init; } = "";
    [Id(11)] public string Silo { get; init; } = "";
    [Id(12)] public int Attempts { get; init; }
    [Id(13)] public string? Error { get; init; }
    /// <summary>Where the trained model was saved (on the silo that ran the trial), when the spec asked for it.</summary>
    [Id(14)] public string? ModelPath { get; init; }
    /// <summary>Why the model the spec asked for was not saved (the trial itself completed).</summary>
    [Id(15)] public string? ModelError { get; init; }
    /// <summary>The nsga2 generation that proposed the trial (absent for grid and random search).</summary>
    [Id(16), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? Generation { get; init; }
    /// <summary>A stopped trial: the rung (epoch) where early stopping stopped it; its reason is <see cref="Error"/>.</summary>
    [Id(17), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? Rung { get; init; }
}
