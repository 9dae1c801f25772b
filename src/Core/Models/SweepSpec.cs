using System.Text.Json.Serialization;

namespace Sweep.Core.Models;

/// <summary>A validated sweep: what to vary, what stays fixed, and how the results are judged.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.SweepSpec")]
public sealed record SweepSpec
{
    /// <summary>The sweep's name: letters, digits, '.', '_' and '-' only, so it is safe as a folder name.</summary>
    [Id(0)] public string Name { get; init; } = "";
    /// <summary>The dataset every trial trains on; file paths are absolute once parsed.</summary>
    [Id(1)] public DatasetRef Dataset { get; init; } = DatasetRef.Mnist10k;
    /// <summary>The fixed settings (model, training, pruning); search dimensions override them per trial.</summary>
    [Id(2)] public TrialParameters Base { get; init; } = new();
    /// <summary>How trial parameters are chosen.</summary>
    [Id(3)] public SearchSpec Search { get; init; } = new();
    /// <summary>Replicates: every configuration runs once per seed.</summary>
    [Id(4)] public IReadOnlyList<long> Seeds { get; init; } = [0];
    /// <summary>The two maximized objectives of the main front, e.g. ["accuracy", "weightSparsity"].</summary>
    [Id(5)] public IReadOnlyList<string> Objectives { get; init; } = ["accuracy", "weightSparsity"];
    /// <summary>The hypervolume reference point, one value per objective (default 0, 0); fixed per sweep.</summary>
    [Id(6)] public IReadOnlyList<double> ReferencePoint { get; init; } = [0, 0];
    /// <summary>Train on only the first N samples of the train split (smoke runs and tests); null = all.</summary>
    [Id(7)] public int? TrainLimit { get; init; }
    /// <summary>How many times a failing trial is attempted before it is recorded as failed.</summary>
    [Id(8)] public int MaxAttempts { get; init; } = 1;
    /// <summary>The spec file's text as submitted (written back as spec.json).</summary>
    [Id(9)] public string? Source { get; init; }
    /// <summary>Save every completed trial's trained model (spec field "saveModels"; default false).</summary>
    [Id(10)] public bool SaveModels { get; init; }
    /// <summary>A trial that trains longer than this many seconds fails ("maxTrialSeconds"); null = the cluster's cap.</summary>
    [Id(11)] public int? MaxTrialSeconds { get; init; }
    /// <summary>
    /// The sweep's budget in trial-epochs ("trialEpochBudget"): trials start only while it holds their epochs; then the sweep
    /// stops as cancelled with the reason. Null = the cluster's cap.
    /// </summary>
    [Id(12)] public long? TrialEpochBudget { get; init; }
    /// <summary>The most of the cluster's trial places this sweep takes at once, 0–1 ("maxSlotShare"); null = the cap.</summary>
    [Id(13)] public double? MaxSlotShare { get; init; }
    /// <summary>Stop trials at rungs when they are not among the best (the spec's "earlyStopping"); null: none.</summary>
    [Id(14)] public EarlyStoppingSpec? EarlyStopping { get; init; }
}

/// <summary>The search strategy and its space.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.SearchSpec")]
public sealed record SearchSpec
{
    /// <summary>Grid (cartesian product of lists) or random (seeded draws); JSON writes "grid" / "random".</summary>
    public SearchStrategy Strategy
    {
        get => Vocabularies.Strategies.Parse(StrategyName);
        init => StrategyName = Vocabularies.Strategies.Name(value);
    }

    /// <summary>
    /// The strategy as coordinators store it: its name, as the release before the enum wrote it, so sweeps saved in
    /// Redis by that release still load.
    /// </summary>
    [Id(0), JsonIgnore] public string StrategyName { get; init; } = "grid";
    /// <summary>One dimension per varied parameter, in the order the spec lists them.</summary>
    [Id(1)] public IReadOnlyList<Dimension> Space { get; init; } = [];
    /// <summary>Random and nsga2 search: how many configurations to draw or propose.</summary>
    [Id(2)] public int Trials { get; init; }
    /// <summary>Random and nsga2 search: the seed of the draws.</summary>
    [Id(3)] public long Seed { get; init; }
    /// <summary>Nsga2 search: configurations per generation (and the number of parents kept).</summary>
    [Id(4)] public int Population { get; init; }
}

/// <summary>How a dimension's values are given.</summary>
public enum DimensionKind { Choice, Uniform, LogUniform, Int }

/// <summary>
/// One searched parameter (model, regularizer, lambda, pruneRate, pruneMethod, temperature, learningRate, epochs).
/// String parameters use <see cref="Texts"/>; numeric ones <see cref="Numbers"/> (choices) or Low/High (ranges).
/// </summary>
[GenerateSerializer, Immutable, Alias("Sweep.Dimension")]
public sealed record Dimension
{
    [Id(0)] public string Parameter { get; init; } = "";
    [Id(1)] public DimensionKind Kind { get; init; }
    [Id(2)] public IReadOnlyList<string> Texts { get; init; } = [];
    [Id(3)] public IReadOnlyList<double> Numbers { get; init; } = [];
    [Id(4)] public double Low { get; init; }
    [Id(5)] public double High { get; init; }
}

/// <summary>One trial of a sweep: its stable id (derived from its parameters) and its parameters.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialPlan")]
public sealed record TrialPlan(
    [property: Id(0)] string TrialId,
    [property: Id(1)] TrialParameters Params);

/// <summary>
/// Early stopping (algorithm.md, "Early stopping"): at each rung (an epoch), a trial goes on only if it ranks among the
/// best <see cref="Keep"/> of the trials that reached that rung, on the sweep's objectives.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sweep.EarlyStoppingSpec")]
public sealed record EarlyStoppingSpec
{
    /// <summary>"pareto-asha", the one method.</summary>
    [Id(0)] public string Method { get; init; } = "pareto-asha";
    /// <summary>The epochs after which trials are judged, ascending.</summary>
    [Id(1)] public IReadOnlyList<int> Rungs { get; init; } = [];
    /// <summary>The fraction of the trials at a rung that go on, in (0, 1).</summary>
    [Id(2)] public double Keep { get; init; }
}
