using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>One per sweep (keyed by the sweep id): expands the spec, fans trials out, aggregates the fronts.</summary>
[Alias("Sweep.ISweepCoordinatorGrain")]
public interface ISweepCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the sweep. Trials in <paramref name="completed"/> whose id and parameters match a planned trial are kept
    /// and not run again. Submitting an existing sweep again with the same spec changes nothing and returns its status;
    /// with another spec it throws <see cref="SweepConflictException"/>.
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
