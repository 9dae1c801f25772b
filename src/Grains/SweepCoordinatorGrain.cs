using Sweep.Core;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Sweep.Core.Models;
using Sweep.Core.Sweeps;
using Sweep.Grains.Resilience;
using Sweep.Core.Search;
using Sweep.Core.Telemetry;

namespace Sweep.Grains;

/// <summary>A coordinator's durable state: the spec, the plan, and every finished trial.</summary>
[GenerateSerializer, Alias("Sweep.SweepGrainState")]
public sealed class SweepGrainState
{
    [Id(0)] public SweepSpec? Spec { get; set; }
    [Id(1)] public List<TrialPlan> Plans { get; set; } = [];
    /// <summary>Finished trials in the order they finished.</summary>
    [Id(2)] public List<TrialResult> Results { get; set; } = [];
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset? FinishedAt { get; set; }
    [Id(5)] public bool Cancelled { get; set; }
    /// <summary>The sweep span's traceparent: every trial span of the sweep is its child, across moves and restarts.</summary>
    [Id(6)] public string? TraceParent { get; set; }
}

/// <summary>
/// One per sweep. Expands the spec into trials, keeps at most as many in flight as the cluster has training
/// slots, folds each result into both Pareto fronts as it arrives, and persists what it knows so that a
/// reactivation (or another silo) carries on where it stopped. Trial grains store their own results, so a
/// result that arrives while the state is not yet written is recovered by asking the trial again.
/// A watchdog asks every in-flight trial again every few seconds: a trial whose silo died comes back as a new
/// activation on a live silo and runs again (at-least-once execution; results are recorded exactly once).
/// A reminder brings the coordinator back after a whole-cluster restart even when no client asks.
/// </summary>
public sealed class SweepCoordinatorGrain(
    [PersistentState("sweep", SweepStorage.Name)] IPersistentState<SweepGrainState> state,
    SweepResilience resilience,
    ILocalSiloDetails silo,
    ILogger<SweepCoordinatorGrain> logger) : Grain, ISweepCoordinatorGrain, IRemindable
{
    private static readonly TimeSpan WriteInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CapacityRefresh = TimeSpan.FromSeconds(2);   // as often as silos advertise
    private static readonly TimeSpan WatchdogPeriod = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan WatchdogCallTimeout = TimeSpan.FromSeconds(10);
    private const string KeepAliveReminder = "sweep-keepalive";

    private SweepBook _book = null!;   // set from the durable state on activation and on submit
    private int _capacity = 1;
    private DateTime _capacityAt = DateTime.MinValue;
    private DateTime _lastWrite = DateTime.MinValue;
    private bool _dirty;
    private bool _dispatching;
    private DateTime _activatedAt;
    private int _doneAtActivation;
    private IGrainTimer? _flushTimer;
    private IGrainTimer? _watchdog;
    private Activity? _sweepSpan;

    private string SweepId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = DateTime.UtcNow;
        if (state.State.Spec is null) return;
        Rebuild();
        if (!IsFinished)
        {
            logger.LogInformation("Sweep {Sweep} resumes on {Silo}: {Done} of {Total} trials finished",
                SweepId, silo.Name, _book.Finished, _book.Total);
            StartWatchdog();
            await DispatchAsync();
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Being activated is the point (OnActivateAsync resumes the sweep); once finished the reminder goes away.
        if (state.State.Spec is null || IsFinished)
        {
            var reminder = await this.GetReminder(reminderName);
            if (reminder is not null) await this.UnregisterReminder(reminder);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_sweepSpan is not null)
        {
            // The sweep goes on elsewhere; its trials keep this span's trace as their parent.
            _sweepSpan.SetTag("suspended", reason.Description);
            _sweepSpan.Stop();
            _sweepSpan = null;
        }
        if (_dirty) await WriteAsync();
    }

    public async Task<SweepStatus> SubmitAsync(SweepSpec spec, IReadOnlyList<TrialResult> completed)
    {
        if (state.State.Spec is not null) return Status();
        var plans = SearchSpace.Expand(spec);
        StartSweepSpan(spec, plans.Count);
        state.State.Spec = spec;
        state.State.Plans = plans.ToList();
        state.State.CreatedAt = DateTimeOffset.UtcNow;
        state.State.Results = SweepBook.Reusable(plans, completed, SweepId);
        Rebuild();
        FinishIfDone();   // every trial may have been handed in already
        await WriteAsync();
        await GrainFactory.GetGrain<ISweepRegistryGrain>(0).AddAsync(new SweepSummary(SweepId, spec.Name, state.State.CreatedAt));
        logger.LogInformation("Sweep {Sweep} ({Name}) submitted: {Total} trials, {Kept} already completed",
            SweepId, spec.Name, plans.Count, _book.Finished);
        if (!IsFinished)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            StartWatchdog();
        }
        await DispatchAsync();
        return Status();
    }

    public Task<SweepStatus?> GetStatusAsync() => Task.FromResult(state.State.Spec is null ? null : Status());

    public Task<SweepSpec?> GetSpecAsync() => Task.FromResult(state.State.Spec);

    public Task<FrontReport?> GetFrontAsync() =>
        Task.FromResult(state.State.Spec is null ? null : _book.FrontReport(SweepId));

    public Task<IReadOnlyList<TrialResult>> GetResultsAsync(int from, int max)
    {
        var results = state.State.Results;
        from = Math.Clamp(from, 0, results.Count);
        int count = Math.Clamp(max, 0, results.Count - from);
        return Task.FromResult<IReadOnlyList<TrialResult>>(results.GetRange(from, count));
    }

    public async Task<SweepStatus?> CancelAsync()
    {
        if (state.State.Spec is null) return null;
        if (IsFinished) return Status();
        state.State.Cancelled = true;
        // Pending trials never start; they are recorded as cancelled so every planned trial has one outcome.
        if (_book.CancelPending(SweepId) > 0) _dirty = true;
        var running = _book.InFlight.Select(t => t.TrialId).ToArray();
        await Task.WhenAll(running.Select(id => GrainFactory.GetGrain<ITrialGrain>(TrialRequest.TrialKey(SweepId, id)).CancelAsync()));
        FinishIfDone();
        await WriteAsync();
        logger.LogInformation("Sweep {Sweep} cancelled; {Running} running trials told to stop", SweepId, running.Length);
        return Status();
    }

    public Task ReportEpochAsync(string trialId, EpochRecord epoch, string silo)
    {
        if (state.State.Spec is not null) _book.Progress(trialId, epoch.Epoch, silo);
        return Task.CompletedTask;
    }

    public async Task ReportResultAsync(TrialResult result)
    {
        if (state.State.Spec is null || !_book.IsPlanned(result.TrialId)) return;
        if (!Collect(result))
        {
            DispatchInBackground();   // its place may be free now
            return;
        }
        FinishIfDone();
        if (IsFinished || DateTime.UtcNow - _lastWrite >= WriteInterval) await WriteAsync();
        else ScheduleFlush();
        DispatchInBackground();
    }

    private bool IsFinished => state.State.FinishedAt is not null;

    /// <summary>Rebuilds the in-memory book (queues, fronts) from the durable state.</summary>
    private void Rebuild()
    {
        _book = new SweepBook(state.State.Spec!, state.State.Plans, state.State.Results);
        _doneAtActivation = _book.Finished;
        _book.Touch();
    }

    /// <summary>Takes a trial's result into the book; true the first time (then the state must be written).</summary>
    private bool Collect(TrialResult result)
    {
        if (!_book.Collect(result)) return false;
        _dirty = true;
        return true;
    }

    /// <summary>
    /// The "sweep" span: a child of the submitting client's span (propagated by Orleans, or read from the request
    /// context when Orleans' own source is not recorded).
    /// </summary>
    private void StartSweepSpan(SweepSpec spec, int trials)
    {
        var previous = Activity.Current;
        var parent = previous?.Context ?? SweepTelemetry.Parent(RequestContext.Get("traceparent") as string);
        _sweepSpan = SweepTelemetry.Source.StartActivity("sweep", ActivityKind.Internal, parent);
        Activity.Current = previous;   // the span lives as long as the sweep, not as long as this call
        if (_sweepSpan is null) return;
        _sweepSpan.SetTag("sweep_id", SweepId);
        _sweepSpan.SetTag("sweep_name", spec.Name);
        _sweepSpan.SetTag("model", spec.Base.Model);
        _sweepSpan.SetTag("strategy", Vocabularies.Strategies.Name(spec.Search.Strategy));
        _sweepSpan.SetTag("trials", trials);
        _sweepSpan.SetTag("silo", silo.Name);
        state.State.TraceParent = _sweepSpan.Id;
    }

    private void FinishIfDone()
    {
        if (!IsFinished && _book.AllFinished)
        {
            state.State.FinishedAt = DateTimeOffset.UtcNow;
            if (_sweepSpan is not null)
            {
                _sweepSpan.SetTag("completed", _book.CountOf(TrialStatus.Completed));
                _sweepSpan.SetTag("failed", _book.CountOf(TrialStatus.Failed));
                _sweepSpan.SetTag("status", state.State.Cancelled ? "cancelled" : "completed");
                _sweepSpan.Stop();
                _sweepSpan = null;
            }
            _book.Touch();
            logger.LogInformation("Sweep {Sweep} finished: {Completed} completed, {Failed} failed", SweepId,
                _book.CountOf(TrialStatus.Completed), _book.CountOf(TrialStatus.Failed));
        }
    }

    /// <summary>
    /// Starts trials while the cluster has free trial places, a batch at a time: the calls of a batch go out together
    /// (one round trip per batch, not per trial). Trials that already finished answer with their stored result.
    /// </summary>
    private async Task DispatchAsync()
    {
        if (_dispatching) return;
        _dispatching = true;
        try
        {
            while (!state.State.Cancelled && !IsFinished && _book.Pending > 0)
            {
                int room = await CapacityAsync() - _book.Running;
                if (room <= 0) break;
                var batch = _book.Start(room);
                if (batch.Count == 0) continue;
                foreach (var stored in await Task.WhenAll(batch.Select(StartTrialAsync)))
                    if (stored is not null && Collect(stored)) FinishIfDone();
            }
        }
        finally
        {
            _dispatching = false;
        }
        if (_dirty && (IsFinished || DateTime.UtcNow - _lastWrite >= WriteInterval)) await WriteAsync();
    }

    private async Task<TrialResult?> StartTrialAsync(TrialPlan plan)
    {
        var request = RequestFor(plan);
        try
        {
            return await GrainFactory.GetGrain<ITrialGrain>(request.GrainKey).StartAsync(request);
        }
        catch (Exception e) when (ResilienceIsTransient(e))
        {
            // Counted as in flight: the watchdog starts it again once the cluster has settled.
            logger.LogWarning("Starting trial {Trial} failed ({Reason}); the watchdog retries it", plan.TrialId, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Dispatches on the activation's scheduler without holding up the caller: a finished trial's report returns at once
    /// and the next reports are taken in while new trials start (the loop sees the places they free).
    /// </summary>
    private void DispatchInBackground()
    {
        if (_dispatching) return;
        _ = DispatchSafelyAsync();

        async Task DispatchSafelyAsync()
        {
            try { await DispatchAsync(); }
            catch (Exception e)
            {
                logger.LogWarning("Sweep {Sweep}: dispatching failed ({Reason}); the watchdog and the next report retry",
                    SweepId, e.Message);
            }
        }
    }

    private static bool ResilienceIsTransient(Exception e) => SweepResilience.IsTransient(e);

    private TrialRequest RequestFor(TrialPlan plan)
    {
        var spec = state.State.Spec!;
        return new TrialRequest
        {
            SweepId = SweepId, TrialId = plan.TrialId, Params = plan.Params, Dataset = spec.Dataset,
            TrainLimit = spec.TrainLimit, MaxAttempts = spec.MaxAttempts, TraceParent = state.State.TraceParent,
            SaveModels = spec.SaveModels,
        };
    }

    private void StartWatchdog() =>
        _watchdog ??= this.RegisterGrainTimer(WatchInFlightAsync,
            new GrainTimerCreationOptions(WatchdogPeriod, WatchdogPeriod) { Interleave = false, KeepAlive = true });

    /// <summary>
    /// Asks every in-flight trial to start: a running one ignores it, a finished one answers with its result (a lost report),
    /// and one whose silo died is activated again on a live silo and runs again.
    /// </summary>
    private async Task WatchInFlightAsync(CancellationToken cancellationToken)
    {
        if (IsFinished)
        {
            _watchdog?.Dispose();
            _watchdog = null;
            return;
        }
        var calls = _book.InFlight.Select(t => _book.Plan(t.TrialId)).ToArray().Select(async plan =>
        {
            var request = RequestFor(plan);
            try
            {
                return await GrainFactory.GetGrain<ITrialGrain>(request.GrainKey).StartAsync(request)
                    .WaitAsync(WatchdogCallTimeout, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug("Watchdog: trial {Trial} did not answer ({Reason})", plan.TrialId, e.Message);
                return null;
            }
        }).ToArray();
        foreach (var stored in await Task.WhenAll(calls))
            if (stored is not null && _book.IsInFlight(stored.TrialId)) Collect(stored);
        FinishIfDone();
        await DispatchAsync();
    }

    /// <summary>
    /// How many trials this sweep may have in flight: the cluster's slots minus those other sweeps' trials occupy (at least
    /// one). Busy counts are split by sweep, so this sweep's own just-finished trials never hold its slots back.
    /// </summary>
    private async Task<int> CapacityAsync()
    {
        if (DateTime.UtcNow - _capacityAt > CapacityRefresh)
        {
            var slots = await GrainFactory.GetGrain<ISlotRegistryGrain>(0).GetSlotsAsync();
            // Trials that fuse share a slot (a silo offers slots × fusion width places); trials of a model that does not
            // fuse take a slot each, so more of them in flight would only wait in the silos' queues.
            // Augmented trials train one per slot whatever their model (the fused trainer takes fixed inputs).
            bool fuses = !_book.Spec.Dataset.Augment;
            int total = slots.Values.Sum(s => fuses && _book.Models.All(s.Fuses) ? s.Capacity : s.TrainingSlots);
            int others = slots.Values.Sum(s => s.BusyForOthers(SweepId));
            _capacity = Math.Max(1, total - others);
            _capacityAt = DateTime.UtcNow;
        }
        return _capacity;
    }


    private void ScheduleFlush()
    {
        _flushTimer ??= this.RegisterGrainTimer(async () =>
        {
            if (_dirty) await WriteAsync();
        }, new GrainTimerCreationOptions(WriteInterval, WriteInterval) { Interleave = false, KeepAlive = false });
    }

    private async Task WriteAsync()
    {
        _dirty = false;
        _lastWrite = DateTime.UtcNow;
        await resilience.StorageWrite.RunOnGrainAsync(_ => state.WriteStateAsync(), CancellationToken.None);
    }

    private SweepStatus Status()
    {
        var s = state.State;
        int completed = _book.CountOf(TrialStatus.Completed), failed = _book.CountOf(TrialStatus.Failed);
        int cancelled = _book.CountOf(TrialStatus.Cancelled);
        int done = completed + failed + cancelled;
        var now = DateTimeOffset.UtcNow;
        double elapsed = ((s.FinishedAt ?? now) - s.CreatedAt).TotalSeconds;
        double? eta = null;
        int doneHere = done - _doneAtActivation;
        if (IsFinished) eta = 0;
        else if (doneHere > 0)
        {
            double rate = doneHere / Math.Max(1e-3, (DateTime.UtcNow - _activatedAt).TotalSeconds);
            eta = (_book.Total - done) / rate;
        }
        var spec = s.Spec!;
        return new SweepStatus
        {
            SweepId = SweepId,
            Name = spec.Name,
            State = s.Cancelled ? SweepState.Cancelled : IsFinished ? SweepState.Completed : SweepState.Running,
            Total = _book.Total,
            Pending = _book.Pending,
            Running = _book.Running,
            Completed = completed,
            Failed = failed,
            Cancelled = cancelled,
            Version = _book.Version,
            CreatedAt = s.CreatedAt,
            FinishedAt = s.FinishedAt,
            ElapsedSeconds = elapsed,
            EtaSeconds = eta,
            Hypervolume = _book.Front.Hypervolume,
            NodeHypervolume = _book.NodeFront.Hypervolume,
            InFlightLimit = _capacity,
            RunningTrials = _book.InFlight.ToArray(),
            CoordinatorSilo = silo.Name,
        };
    }
}
