using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>One per sweep (keyed by the sweep id): expands the spec, fans trials out, aggregates the fronts.</summary>
[Alias("Sweep.ISweepCoordinatorGrain")]
public interface ISweepCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the sweep. Trials in <paramref name="completed"/> whose id and parameters match a planned trial are kept
    /// and not run again. Submitting an existing sweep again changes nothing and returns its status.
    /// </summary>
    [Alias("Submit"), ClientCallable]
    Task<SweepStatus> SubmitAsync(SweepSpec spec, IReadOnlyList<TrialResult> completed);

    /// <summary>
    /// Null when no sweep has this id. Counts, timing and hypervolumes only (<see cref="SweepStatus.RunningTrials"/> is
    /// empty: <see cref="GetRunningAsync"/> pages them): a snapshot cached per change, served between other calls.
    /// </summary>
    [Alias("GetStatus"), AlwaysInterleave, ClientCallable]
    Task<SweepStatus?> GetStatusAsync();

    /// <summary>Trials in flight with their progress, in plan order, from position <paramref name="from"/>.</summary>
    [Alias("GetRunning"), AlwaysInterleave, ClientCallable]
    Task<IReadOnlyList<TrialProgress>> GetRunningAsync(int from, int max);

    [Alias("GetFront"), AlwaysInterleave, ClientCallable]
    Task<FrontReport?> GetFrontAsync();

    /// <summary>
    /// Finished trials (completed, failed, cancelled) from the sweep's result store, in the order they were stored, from
    /// position <paramref name="from"/>; empty past the end.
    /// </summary>
    [Alias("GetResults"), AlwaysInterleave, ClientCallable]
    Task<IReadOnlyList<TrialResult>> GetResultsAsync(long from, int max);

    [Alias("GetSpec"), AlwaysInterleave, ClientCallable]
    Task<SweepSpec?> GetSpecAsync();

    /// <summary>Stops running trials and starts no more.</summary>
    [Alias("Cancel"), ClientCallable]
    Task<SweepStatus?> CancelAsync();

    /// <summary>
    /// Cancels the sweep if it runs, then removes everything of it: results, state, its entry in the registry.
    /// False when no sweep has this id.
    /// </summary>
    [Alias("Delete"), ClientCallable]
    Task<bool> DeleteAsync();

    /// <summary>Epochs finished on a silo since its last report (one batch per silo per second; progress only).</summary>
    [OneWay, Alias("ReportProgress")]
    Task ReportProgressAsync(string silo, IReadOnlyList<TrialEpoch> epochs);

    /// <summary>
    /// A trial finished: completed, failed or cancelled. When this returns, the result is in the sweep's result store
    /// (the trial may forget it).
    /// </summary>
    [Alias("ReportResult"), AlwaysInterleave]   // reports that arrive together are stored in one append
    Task ReportResultAsync(TrialResult result);

    /// <summary>
    /// Early stopping: a trial finished a rung's epoch. Null: it goes on; else why it stops (it then reports itself
    /// stopped with its epochs so far). Answered from memory, interleaved with everything else.
    /// </summary>
    [Alias("ReportRung"), AlwaysInterleave]
    Task<string?> ReportRungAsync(string trialId, EpochRecord epoch);
}

/// <summary>The latest epoch a trial finished (an entry of a silo's progress batch).</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialEpoch")]
public readonly record struct TrialEpoch([property: Id(0)] string TrialId, [property: Id(1)] int Epoch);

/// <summary>
/// The list of sweeps the cluster knows (key 0), with their state as their coordinators last told it: `sweep list`
/// reads this, not every coordinator. Finished sweeps older than the retention (Sweep:RetainFinished) are deleted.
/// </summary>
[Alias("Sweep.ISweepRegistryGrain")]
public interface ISweepRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a sweep, or updates its entry.</summary>
    [Alias("Add")]
    Task AddAsync(SweepSummary sweep);

    [Alias("Remove")]
    Task RemoveAsync(string sweepId);

    [Alias("List"), AlwaysInterleave, ClientCallable]
    Task<IReadOnlyList<SweepSummary>> ListAsync();
}

/// <summary>
/// A silo's training slots: trial places (<see cref="Capacity"/> = slots × fusion width), how many are busy and for which
/// sweeps, the training slots themselves (threads of training), and the models whose trials its slots train fused
/// (the engine's model families decide; the coordinator reads it here instead of asking the engine).
/// </summary>
[GenerateSerializer, Immutable, Alias("Sweep.SiloSlots")]
public sealed record SiloSlots(
    [property: Id(0)] int Capacity,
    [property: Id(1)] int Busy,
    [property: Id(2)] IReadOnlyDictionary<string, int> BusyBySweep,
    [property: Id(3)] int TrainingSlots,
    [property: Id(4)] IReadOnlyList<string>? FusingModels = null,
    [property: Id(5)] long Arrived = 0,
    [property: Id(6)] int Waiting = 0)
{
    /// <summary>Whether this silo trains trials of <paramref name="model"/> fused (several in one slot).</summary>
    public bool Fuses(string model) =>
        ModelSpec.TryParse(model, out _) is { } spec && FusingModels?.Contains(ModelSpec.FusingKey(spec)) == true;

    /// <summary>Places busy for sweeps other than <paramref name="sweepId"/>.</summary>
    public int BusyForOthers(string sweepId) => BusyBySweep.Where(kv => kv.Key != sweepId).Sum(kv => kv.Value);
}

/// <summary>The cluster's training slots as the silos advertise them (key 0).</summary>
[Alias("Sweep.ISlotRegistryGrain")]
public interface ISlotRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>A silo's slots (sent at start and then every couple of seconds).</summary>
    [Alias("Advertise")]
    Task AdvertiseAsync(string silo, SiloSlots slots);

    /// <summary>The slots of every silo that is alive now, keyed by silo address.</summary>
    [Alias("GetSlots")]
    Task<IReadOnlyDictionary<string, SiloSlots>> GetSlotsAsync();
}

/// <summary>
/// A silo refused a submitted spec (a field out of range, a dataset outside the data roots, over a cluster limit): a
/// deterministic answer, never retried. <see cref="Field"/> names the spec field, as the command line's messages do.
/// </summary>
[GenerateSerializer, Alias("Sweep.SweepRefusedException")]
public sealed class SweepRefusedException : Exception
{
    public SweepRefusedException(string field, string reason) : base($"{field}: {reason}")
    {
        Field = field;
        Reason = reason;
    }

    [Id(0)] public string Field { get; private set; }
    [Id(1)] public string Reason { get; private set; }
}

/// <summary>
/// A method clients may call (the public sweep API). On a silo with a cluster key (Sweep:ClusterKey) every other method
/// of Sweep's grains answers only calls that carry the key: calls made by silos.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ClientCallableAttribute : Attribute;

/// <summary>A silo refused a call: a client without the cluster's credential, or a client calling an internal method.</summary>
[GenerateSerializer, Alias("Sweep.SweepAccessDeniedException")]
public sealed class SweepAccessDeniedException : Exception
{
    public SweepAccessDeniedException(string message) : base(message) { }
}

/// <summary>The request-context keys Sweep's credentials travel in.</summary>
public static class SweepCredentials
{
    /// <summary>The client credential (Sweep:ClientToken on silos; SWEEP_TOKEN or --token-file on clients).</summary>
    public const string ClientToken = "sweep-client-token";
    /// <summary>The silos' shared secret (Sweep:ClusterKey), added by silos to every call they make.</summary>
    public const string ClusterKey = "sweep-cluster-key";
}
