namespace Sweep.Core.Models;

/// <summary>A trial on a front, with all three measures.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.FrontPoint")]
public sealed record FrontPoint(
    [property: Id(0)] string TrialId,
    [property: Id(1)] TrialParameters Params,
    [property: Id(2)] double Accuracy,
    [property: Id(3)] double WeightSparsity,
    [property: Id(4)] double NodeSparsity);

/// <summary>A 2-objective Pareto front with its hypervolume against the sweep's fixed reference point.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.Front")]
public sealed record Front
{
    [Id(0)] public IReadOnlyList<string> Objectives { get; init; } = [];
    [Id(1)] public IReadOnlyList<double> ReferencePoint { get; init; } = [0, 0];
    [Id(2)] public double Hypervolume { get; init; }
    /// <summary>Sorted by the first objective, descending.</summary>
    [Id(3)] public IReadOnlyList<FrontPoint> Points { get; init; } = [];
}

/// <summary>front.json: the main front (the spec's objectives) and the node front (accuracy, nodeSparsity).</summary>
[GenerateSerializer, Immutable, Alias("Sweep.FrontReport")]
public sealed record FrontReport
{
    [Id(0)] public string SweepId { get; init; } = "";
    [Id(1)] public IReadOnlyList<string> Objectives { get; init; } = [];
    [Id(2)] public IReadOnlyList<double> ReferencePoint { get; init; } = [0, 0];
    [Id(3)] public double Hypervolume { get; init; }
    [Id(4)] public IReadOnlyList<FrontPoint> Points { get; init; } = [];
    [Id(5)] public Front NodeFront { get; init; } = new();
}
