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
}

/// <summary>A trial grain's answer to Start: the silo it runs on, and its result when it already has one.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialStart")]
public sealed record TrialStart(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] string SiloName,
    [property: Id(2)] TrialResult? Result);

/// <summary>Owns exactly one trial: trains it at most once at a time, reports epochs and the result to its coordinator.</summary>
[Alias("Sweep.ITrialGrain")]
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the trial in the background and returns at once where it runs, with its stored result when it already
    /// finished (starting a finished trial never runs it again until it is told to forget it).
    /// </summary>
    [Alias("Start")]
    Task<TrialStart> StartAsync(TrialRequest request);

    /// <summary>The coordinator has stored the result: the trial drops its copy (and its state) and deactivates.</summary>
    [OneWay, Alias("Forget")]
    Task ForgetAsync();

    /// <summary>Stops a running trial between optimizer steps; it then reports itself cancelled.</summary>
    [Alias("Cancel")]
    Task CancelAsync();
}
