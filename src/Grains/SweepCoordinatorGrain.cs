using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Core.Sweeps;
using Sweep.Grains.Coordinator;
using Sweep.Grains.Resilience;
using Sweep.Grains.Results;
using Sweep.Grains.Security;

namespace Sweep.Grains;

/// <summary>
/// One per sweep: the effects of a <see cref="SweepRun"/>, which decides everything. It checks a submitted spec, stores
/// results (<see cref="ResultBatcher"/>), writes the run's record (<see cref="StateWriter"/>), starts trials within the
/// cluster's capacity, starts again those of dead silos and silent ones (<see cref="TrialLeases"/>), keeps the sweep's
/// span and a reminder that brings it back after a whole-cluster restart (docs/architecture.md).
/// </summary>
public sealed class SweepCoordinatorGrain(
    [PersistentState("sweep", SweepStorage.Name)] IPersistentState<SweepRecord> state,
    ISweepResultStore store,
    IClusterMembershipService membership,
    SweepResilience resilience,
    ILocalSiloDetails silo,
    IOptions<SweepLimitOptions> limits,
    IGrainFactory grains,
    ILogger<SweepCoordinatorGrain> logger) : Grain, ISweepCoordinatorGrain, IRemindable
{
    private const string KeepAliveReminder = "sweep-keepalive";

    private readonly ResultBatcher _batcher = new(store);
    private readonly StateWriter _writer = new(state, resilience, grains);
    private readonly TrialLeases _leases = new(membership, logger);
    private readonly ClusterCapacity _capacity = new(grains);
    private readonly SweepSpan _span = new();
    private SweepRun? _run;   // null until a spec is submitted (or read back on activation)
    private bool _dispatching;

    private string SweepId => this.GetPrimaryKeyString();

    /// <summary>The sweep, unless there is none or it was deleted.</summary>
    private SweepRun? Live => _run is { Phase: not SweepPhase.Deleted } run ? run : null;

    /// <summary>The activation order, top to bottom (docs/architecture.md, "The coordinator's activation order").</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Spec is not { } spec) return;
        bool legacy = state.State.IsLegacy;
        if (legacy) await LegacyState.MigrateAsync(state.State, SweepId, store, logger);
        var stored = SweepRun.NeedsStoredResults(spec)
            ? await ResultBatcher.ReadAllAsync(store, SweepId, SweepRun.NeedsEpochs(spec)) : null;
        var run = _run = SweepRun.Resume(SweepId, state.State, stored);
        if (legacy) await _writer.WriteAsync(run, Status);
        await ResultBatcher.ReadTailAsync(store, run, logger);   // results stored after the record's last write
        await StoreAsync(run.Extend());   // nsga2: the generations they complete
        run.Activated(DateTime.UtcNow);
        // A cancel cut short: its waiting trials are stored as cancelled.
        if (run.Phase == SweepPhase.Draining && run.Book.Pending > 0) await StoreCancelledAsync(run.Cancel(run.StopReason));
        FinishIfDone();
        if (run.IsFinished)
        {
            await _writer.WriteIfDueAsync(run, Status);
            return;
        }
        logger.LogInformation("Sweep {Sweep} resumes on {Silo}: {Done} of {Total} trials finished",
            SweepId, silo.Name, run.Book.Finished, run.Book.Total);
        Watch();
        await DispatchAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Being activated is the point (OnActivateAsync resumes the sweep); once finished the reminder goes away.
        if (Live is { IsFinished: false }) return;
        if (await this.GetReminder(reminderName) is { } reminder) await this.UnregisterReminder(reminder);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _leases.Stop();
        _span.Suspend(reason.Description);
        if (Live is { Dirty: true } run) await _writer.WriteAsync(run, Status);
    }

    public async Task<SweepStatus> SubmitAsync(SweepSpec spec, IReadOnlyList<TrialResult> completed)
    {
        if (state.State.Spec is { } existing)
        {
            // The same spec again (a retried submit) is answered; another one under this id is a conflict.
            if (spec is not null && !SweepLimitOptions.IsResubmission(existing, spec)) throw new SweepConflictException(SweepId);
            return Status();
        }
        IReadOnlyList<TrialPlan> plans;
        (spec, plans) = await SpecCheck.CheckAsync(spec, limits.Value, SweepId, logger);
        var (run, keep) = SweepRun.Submit(SweepId, state.State, spec, plans, completed, DateTimeOffset.UtcNow);
        _run = run;
        state.State.TraceParent = _span.Start(SweepId, spec, SearchSpace.PlannedTrials(spec, plans), silo.Name);
        // Kept results go to the store like any other (it may hold them already: a resumed `sweep run`'s trials.jsonl).
        await StoreAsync(keep);
        FinishIfDone();
        await _writer.WriteAsync(run, Status);
        logger.LogInformation("Sweep {Sweep} ({Name}) submitted: {Total} trials, {Kept} already completed",
            SweepId, spec.Name, run.Book.Total, run.Book.Finished);
        if (!run.IsFinished)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            Watch();
        }
        await DispatchAsync();
        return Status();
    }

    public Task<SweepStatus?> GetStatusAsync() => Task.FromResult(Live is null ? null : Status());

    public Task<IReadOnlyList<TrialProgress>> GetRunningAsync(int from, int max) =>
        Task.FromResult<IReadOnlyList<TrialProgress>>(Live is not { } run ? [] : run.Book.InFlight
            .OrderBy(t => run.Book.IndexOf(t.TrialId)).Skip(Math.Max(0, from)).Take(Math.Clamp(max, 0, 10_000)).ToArray());

    public Task<SweepSpec?> GetSpecAsync() => Task.FromResult(Live?.Spec);

    public Task<FrontReport?> GetFrontAsync() => Task.FromResult(Live?.Book.FrontReport(SweepId));

    public async Task<IReadOnlyList<TrialResult>> GetResultsAsync(long from, int max) =>
        Live is null ? [] : await store.ReadAsync(SweepId, Math.Max(0, from), Math.Clamp(max, 0, 5_000));

    public async Task<SweepStatus?> CancelAsync()
    {
        if (Live is not { } run) return null;
        if (run.IsFinished) return Status();
        // Waiting trials never start; they are stored as cancelled (and only then count as done), so every planned trial
        // has one outcome. Running ones are told to stop.
        await StoreCancelledAsync(run.Cancel("cancelled by a client"));
        var running = run.Book.InFlight.Select(t => t.TrialId).ToArray();
        await Task.WhenAll(running.Select(id => Trial(id).CancelAsync()));
        FinishIfDone();
        await _writer.WriteAsync(run, Status);
        logger.LogInformation("Sweep {Sweep} cancelled; {Running} running trials told to stop", SweepId, running.Length);
        return Status();
    }

    public async Task<bool> DeleteAsync()
    {
        // A delete that failed half-way (in this activation) can be asked again: it does the remaining steps.
        if (_run is not { } run) return false;
        if (run.Phase is not (SweepPhase.Deleted or SweepPhase.Finished)) await CancelAsync();
        run.Delete();
        _leases.Stop();
        await _batcher.IdleAsync();   // the last append lands before the store goes
        await store.DeleteAsync(SweepId);
        await _writer.ClearAsync();
        await GrainFactory.GetGrain<ISweepRegistryGrain>(0).RemoveAsync(SweepId);
        if (await this.GetReminder(KeepAliveReminder) is { } reminder) await this.UnregisterReminder(reminder);
        logger.LogInformation("Sweep {Sweep} deleted", SweepId);
        DeactivateOnIdle();
        return true;
    }

    public Task ReportProgressAsync(string siloName, IReadOnlyList<TrialEpoch> epochs)
    {
        foreach (var e in Live is null ? [] : epochs)
        {
            _run!.Book.Progress(e.TrialId, e.Epoch, siloName);
            _leases.Heard(e.TrialId, DateTime.UtcNow);
        }
        return Task.CompletedTask;
    }

    public Task<string?> ReportRungAsync(string trialId, EpochRecord epoch) => Task.FromResult(Live?.OnRung(trialId, epoch));

    public async Task ReportResultAsync(TrialResult result)
    {
        if (Live is not { } run) return;
        switch (run.OnReport(result))
        {
            case ReportAction.Ignore:
                return;
            case ReportAction.Forget:
                _leases.Forget(result.TrialId);
                DispatchInBackground();
                return;
        }
        await StoreAsync([result]);
        FinishIfDone();
        await _writer.WriteSoonAsync(this, run, Status);
        DispatchInBackground();
    }

    private ITrialGrain Trial(string trialId) => GrainFactory.GetGrain<ITrialGrain>(TrialRequest.TrialKey(SweepId, trialId));

    private Task StoreAsync(IReadOnlyList<TrialResult> results) =>
        _batcher.StoreAsync(_run!, results, _leases.Forget, AfterChainedStore);

    /// <summary>After what an nsga2 generation stored at once (maybe the sweep's last batch): finish, or start more.</summary>
    private void AfterChainedStore()
    {
        FinishIfDone();
        if (_run!.Book.Pending > 0) DispatchInBackground();
        string id = SweepId;
        if (_run.Dirty) _writer.WriteSoonAsync(this, _run, Status).ContinueWith(t => logger.LogWarning(
            "Sweep {Sweep}: writing its state failed ({Reason})", id, t.Exception?.GetBaseException().Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default).Ignore();
    }

    /// <summary>Cancelled results of waiting trials, stored; put back in the queue if the store fails.</summary>
    private async Task StoreCancelledAsync(IReadOnlyList<TrialResult> cancelled)
    {
        try
        {
            await StoreAsync(cancelled);
        }
        catch
        {
            _run!.Requeue(cancelled);
            throw;
        }
    }

    private void FinishIfDone()
    {
        if (_run is not { } run || !run.TryFinish(DateTimeOffset.UtcNow)) return;
        int completed = run.Book.CountOf(TrialStatus.Completed), failed = run.Book.CountOf(TrialStatus.Failed);
        _span.Finish(completed, failed, run.Cancelled);
        _leases.Stop();
        logger.LogInformation("Sweep {Sweep} finished: {Completed} completed, {Failed} failed", SweepId, completed, failed);
    }

    /// <summary>Starts trials while the cluster has free places, a batch at a time (<see cref="TrialStarter"/>).</summary>
    private async Task DispatchAsync()
    {
        if (_dispatching || Live is not { } run) return;
        _dispatching = true;
        try
        {
            for (int room; run.CanStart && (room = await _capacity.GetAsync(SweepId, run.Book) - run.Book.Running) > 0;)
            {
                var starts = run.TakeStarts(room);
                if (starts.Start.Count > 0) await StartAllAsync(starts.Start.Select(p => p.TrialId).ToArray());
                if (!starts.BudgetSpent) continue;
                logger.LogInformation("Sweep {Sweep} stops: {Reason}", SweepId, run.StopReason);
                await StoreCancelledAsync(starts.Stopped);
                FinishIfDone();
                await _writer.WriteAsync(run, Status);
            }
        }
        finally
        {
            _dispatching = false;
        }
        await _writer.WriteIfDueAsync(run, Status);
    }

    private Task StartAllAsync(IReadOnlyList<string> trialIds) =>
        new TrialStarter(grains, _leases, logger).StartAsync(_run!, trialIds, CollectAsync);

    /// <summary>Stores results and finishes the sweep if they were its last.</summary>
    private async Task CollectAsync(IReadOnlyList<TrialResult> results)
    {
        await StoreAsync(results);
        FinishIfDone();
    }

    /// <summary>Dispatches without holding up the caller: a report returns at once, the loop sees the places it frees.</summary>
    private void DispatchInBackground()
    {
        if (_dispatching) return;
        _ = DispatchSafelyAsync();

        async Task DispatchSafelyAsync()
        {
            try { await DispatchAsync(); }
            catch (Exception e)
            {
                logger.LogWarning("Sweep {Sweep}: dispatching failed ({Reason}); the lease check and the next report retry",
                    SweepId, e.Message);
            }
        }
    }

    /// <summary>The lease check and the membership watch, while the sweep runs.</summary>
    private void Watch() => _leases.Watch(this, SweepId, CheckLeasesAsync, async lost =>
    {
        await StartAllAsync(lost);
        DispatchInBackground();
    });

    /// <summary>Asks again the in-flight trials nothing was heard from within the lease (or whose start failed).</summary>
    private async Task CheckLeasesAsync(CancellationToken cancellationToken)
    {
        if (Live is not { } run || (run.IsFinished && run.Book.Running == 0)) return;
        if (_leases.WatchLost) Watch();
        var silent = _leases.Silent(run.Book.InFlight.Select(t => t.TrialId), DateTime.UtcNow);
        if (silent.Length > 0) await StartAllAsync(silent);
        await DispatchAsync();
    }

    private SweepStatus Status() => _run!.Status(DateTime.UtcNow, _capacity.Current, silo.Name);
}
