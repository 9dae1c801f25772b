using Orleans.Concurrency;
using Orleans.Runtime;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>What a trial grain needs to run its trial.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialRequest")]
public sealed record TrialRequest
{
    [Id(0)] public string SweepId { get; init; } = "";
    [Id(1)] public string TrialId { get; init; } = "";
    [Id(2)] public TrialParameters Params { get; init; } = new();
    [Id(3)] public DatasetRef Dataset { get; init; } = DatasetRef.Mnist10k;
    [Id(4)] public int? TrainLimit { get; init; }
    [Id(5)] public int MaxAttempts { get; init; } = 1;
    /// <summary>The sweep span's W3C traceparent: trial spans are its children wherever they run.</summary>
    [Id(6)] public string? TraceParent { get; init; }
    /// <summary>Save the trained model in the silo's models directory (the spec's "saveModels").</summary>
    [Id(7)] public bool SaveModels { get; init; }
    /// <summary>The trial fails when it trains longer than this (the spec's "maxTrialSeconds" or the cluster's cap).</summary>
    [Id(8)] public int? MaxTrialSeconds { get; init; }
    /// <summary>Early stopping: the epochs after which the trial asks its coordinator whether to go on (empty: never).</summary>
    [Id(9)] public IReadOnlyList<int> Rungs { get; init; } = [];

    /// <summary>The trial grain's key: one grain per (sweep, trial).</summary>
    public string GrainKey => TrialKey(SweepId, TrialId);

    public static string TrialKey(string sweepId, string trialId) => $"{sweepId}/{trialId}";

    /// <summary>What a trial of the sweep needs to train: its plan and the spec's dataset, limits and options.</summary>
    public static TrialRequest For(string sweepId, SweepSpec spec, string? traceParent, TrialPlan plan)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plan);
        return new TrialRequest
        {
            SweepId = sweepId, TrialId = plan.TrialId, Params = plan.Params, Dataset = spec.Dataset,
            TrainLimit = spec.TrainLimit, MaxAttempts = spec.MaxAttempts, TraceParent = traceParent,
            SaveModels = spec.SaveModels, MaxTrialSeconds = spec.MaxTrialSeconds,
            Rungs = spec.EarlyStopping?.Rungs ?? [],
        };
    }
}
