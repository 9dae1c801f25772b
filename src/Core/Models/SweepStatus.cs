namespace Sweep.Core.Models;

/// <summary>Where a sweep stands as a whole.</summary>
public enum SweepState { Running, Completed, Cancelled }

/// <summary>A running trial's progress.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialProgress")]
public sealed record TrialProgress(
    [property: Id(0)] string TrialId,
    [property: Id(1)] int Epoch,
    [property: Id(2)] int Epochs,
    [property: Id(3)] string Silo);

/// <summary>A snapshot of a sweep: counts, timing, fronts' hypervolumes. <see cref="Version"/> grows with every change.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.SweepStatus")]
public sealed record SweepStatus
{
    [Id(0)] public string SweepId { get; init; } = "";
    [Id(1)] public string Name { get; init; } = "";
    [Id(2)] public SweepState State { get; init; }
    [Id(3)] public int Total { get; init; }
    [Id(4)] public int Pending { get; init; }
    [Id(5)] public int Running { get; init; }
    [Id(6)] public int Completed { get; init; }
    [Id(7)] public int Failed { get; init; }
    [Id(8)] public int Cancelled { get; init; }
    [Id(9)] public long Version { get; init; }
    [Id(10)] public DateTimeOffset CreatedAt { get; init; }
    [Id(11)] public DateTimeOffset? FinishedAt { get; init; }
    [Id(12)] public double ElapsedSeconds { get; init; }
    /// <summary>Estimated seconds to the end from the sweep's throughput so far; null until a trial has finished.</summary>
    [Id(13)] public double? EtaSeconds { get; init; }
    [Id(14)] public double Hypervolume { get; init; }
    [Id(15)] public double NodeHypervolume { get; init; }
    /// <summary>How many trials may be in flight at once (the cluster's training slots).</summary>
    [Id(16)] public int InFlightLimit { get; init; }
    /// <summary>Empty in what a coordinator serves (GetRunning pages the trials in flight); kept for older readers.</summary>
    [Id(17)] public IReadOnlyList<TrialProgress> RunningTrials { get; init; } = [];
    /// <summary>The silo the coordinator runs on now.</summary>
    [Id(18)] public string CoordinatorSilo { get; init; } = "";
    /// <summary>Why a cancelled sweep stopped ("cancelled by a client", "budget spent: …"); null otherwise.</summary>
    [Id(19)] public string? Reason { get; init; }
    /// <summary>Trials early stopping stopped at a rung.</summary>
    [Id(20)] public int Stopped { get; init; }

    public bool IsFinished => State != SweepState.Running;
    public int Done => Completed + Failed + Cancelled + Stopped;
}

/// <summary>A sweep in the list of sweeps, as its coordinator last reported it.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.SweepSummary")]
public sealed record SweepSummary(
    [property: Id(0)] string SweepId,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt)
{
    [Id(3)] public SweepState State { get; init; }
    [Id(4)] public int Done { get; init; }
    [Id(5)] public int Total { get; init; }
    [Id(6)] public DateTimeOffset? FinishedAt { get; init; }
}
