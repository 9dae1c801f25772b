using Sweep.Core;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Sweep.Core.Models;
using Sweep.Core.Sweeps;
using Sweep.Grains.Resilience;
using Sweep.Grains.Results;
using Sweep.Core.Search;
using Sweep.Core.Telemetry;
using Sweep.Core.Data;
using Sweep.Grains.Security;
using Microsoft.Extensions.Options;

namespace Sweep.Grains;

/// <summary>
/// A coordinator's durable state: the spec, the book (done set, counts, fronts) and timing. Its size does not grow with
/// the sweep: plans are expanded again from the spec, results live in the sweep's result store.
/// </summary>
[GenerateSerializer, Alias("Sweep.SweepGrainState")]
public sealed class SweepGrainState
{
    [Id(0)] public SweepSpec? Spec { get; set; }
    /// <summary>Before results moved out of this state: the plan. Read once to migrate such a sweep, then emptied.</summary>
    [Id(1)] public List<TrialPlan> Plans { get; set; } = [];
    /// <summary>Before results moved out of this state: every finished trial. Moved to the result store on activation.</summary>
    [Id(2)] public List<TrialResult> Results { get; set; } = [];
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset? FinishedAt { get; set; }
    [Id(5)] public bool Cancelled { get; set; }
    /// <summary>The sweep span's traceparent: every trial span of the sweep is its child, across moves and restarts.</summary>
    [Id(6)] public string? TraceParent { get; set; }
    /// <summary>The done set, outcome counts and fronts; null in a state written before results moved out.</summary>
    [Id(7)] public BookState? Book { get; set; }
    /// <summary>How many of the store's results this state covers: a new activation reads the store from here on.</summary>
    [Id(8)] public long Stored { get; set; }
    /// <summary>Trial-epochs of the trials started so far (each start charges its trial's epochs to the budget).</summary>
    [Id(9)] public long EpochsCharged { get; set; }
    /// <summary>Why the sweep stopped before its end, when it did (cancelled by a client, or its budget spent).</summary>
    [Id(10)] public string? StopReason { get; set; }
}

/// <summary>
/// One per sweep. Expands the spec into trials, keeps at most as many in flight as the cluster has training slots,
/// appends each result to the sweep's result store (which stores each trial once, whoever appends it) and folds it into
/// both Pareto fronts, and persists a small state (spec, done set, counts, fronts) so that a reactivation, on this silo or
/// another, carries on where it stopped: it reads the results stored after its last write back from the store, and
/// asks every unfinished trial to start (a running one says where it runs; a finished one hands in its stored result).
/// Failures are found from cluster membership: the trials of a silo declared dead are started again elsewhere. A slow
/// lease check asks trials nothing was heard from for a minute (a report lost on the way). A reminder brings the
/// coordinator back after a whole-cluster restart even when no client asks.
/// </summary>
public sealed class SweepCoordinatorGrain(
    [PersistentState("sweep", SweepStorage.Name)] IPersistentState<SweepGrainState> state,
    ISweepResultStore store,
    IClusterMembershipService membership,
    SweepResilience resilience,
    ILocalSiloDetails silo,
    IOptions<SweepLimitOptions> limits,
    ILogger<SweepCoordinatorGrain> logger) : Grain, ISweepCoordinatorGrain, IRemindable
{
    private static readonly TimeSpan WriteInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CapacityRefresh = TimeSpan.FromSeconds(2);   // as often as silos advertise
    private static readonly TimeSpan LeaseCheckPeriod = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StartCallTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StartRetryDelay = TimeSpan.FromSeconds(2);
    private const int StartAttempts = 4;
    private static readonly TimeSpan RegistryInterval = TimeSpan.FromSeconds(10);
    private const int ReadPage = 1000;
    private const string KeepAliveReminder = "sweep-keepalive";

    private SweepBook _book = null!;   // set from the durable state on activation and on submit
    private readonly Dictionary<string, SiloAddress> _placedOn = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _heardAt = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private List<TrialResult> _toStore = [];
    private TaskCompletionSource? _stored;
    private bool _storing;
    private int _capacity = 1;
    private DateTime _capacityAt = DateTime.MinValue;
    private DateTime _lastWrite = DateTime.MinValue;
    private DateTime _registryAt = DateTime.MinValue;
    private bool _dirty;
    private bool _dispatching;
    private int? _mostEpochs;
    // Early stopping: every trial's points at the rungs (rebuilt from the stored results when the coordinator activates).
    private ParetoAsha? _asha;
    // nsga2: completed results of an earlier run (a resumed `sweep run`) kept for trials the sampler proposes later.
    private Dictionary<string, TrialResult>? _reusable;
    private bool _deleted;
    private DateTime _activatedAt;
    private int _doneAtActivation;
    private IGrainTimer? _flushTimer;
    private IGrainTimer? _leaseCheck;
    private CancellationTokenSource? _watching;
    private Activity? _sweepSpan;
    private SweepStatus? _status;
    private (long Version, DateTime At) _statusOf;

    private string SweepId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = DateTime.UtcNow;
        if (state.State.Spec is not { } spec) return;
        Dictionary<string, TrialResult>? stored = null;
        if (spec.EarlyStopping is not null)
        {
            _asha = new ParetoAsha(spec);
            stored = await ReadAllStoredAsync(keepEpochs: true);
            foreach (var r in stored.Values) _asha.Record(r);
        }
        if (spec.Search.Strategy == SearchStrategy.Nsga2 && state.State.Book is { } saved)
        {
            // The sampler's proposals follow from the stored results alone: replayed, they are the ones it made.
            _book = new SweepBook(spec, Nsga2Planner.Replay(spec, stored ?? await ReadAllStoredAsync()), saved);
        }
        else
        {
            var plans = SearchSpace.Expand(spec);
            if (state.State.Book is null) await MigrateAsync(plans);
            else _book = new SweepBook(spec, plans, state.State.Book);
        }
        await ReadStoredTailAsync();
        await StoreAsync(ExtendPlan());
        _doneAtActivation = _book.Finished;
        _book.Touch();
        if (state.State.Cancelled && _book.Pending > 0) await StorePendingAsCancelledAsync();   // a cancel cut short
        FinishIfDone();
        if (!IsFinished)
        {
            logger.LogInformation("Sweep {Sweep} resumes on {Silo}: {Done} of {Total} trials finished",
                SweepId, silo.Name, _book.Finished, _book.Total);
            StartWatching();
            await DispatchAsync();
        }
        else if (_dirty) await WriteAsync();
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
        _watching?.Cancel();
        if (_sweepSpan is not null)
        {
            // The sweep goes on elsewhere; its trials keep this span's trace as their parent.
            _sweepSpan.SetTag("suspended", reason.Description);
            _sweepSpan.Stop();
            _sweepSpan = null;
        }
        if (_dirty && !_deleted) await WriteAsync();
    }

    public async Task<SweepStatus> SubmitAsync(SweepSpec spec, IReadOnlyList<TrialResult> completed)
    {
        if (state.State.Spec is not null) return Status();
        IReadOnlyList<TrialPlan> plans;
        (spec, plans) = await CheckAsync(spec);
        StartSweepSpan(spec, SearchSpace.PlannedTrials(spec, plans));
        state.State.Spec = spec;
        state.State.CreatedAt = DateTimeOffset.UtcNow;
        _book = spec.Search.Strategy == SearchStrategy.Nsga2 ? new SweepBook(spec, new Nsga2Planner(spec)) : new SweepBook(spec, plans);
        _doneAtActivation = 0;
        if (spec.EarlyStopping is not null) _asha = new ParetoAsha(spec);
        if (spec.Search.Strategy == SearchStrategy.Nsga2)
        {
            _reusable = new Dictionary<string, TrialResult>(StringComparer.Ordinal);
            foreach (var r in completed.Where(r => r.Status == TrialStatus.Completed)) _reusable.TryAdd(r.TrialId, r);
        }
        // Kept results go to the store like any other (it may hold them already: a resumed `sweep run`'s trials.jsonl).
        await StoreAsync(SweepBook.Reusable(plans, completed, SweepId));
        FinishIfDone();
        await WriteAsync();
        logger.LogInformation("Sweep {Sweep} ({Name}) submitted: {Total} trials, {Kept} already completed",
            SweepId, spec.Name, _book.Total, _book.Finished);
        if (!IsFinished)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            StartWatching();
        }
        await DispatchAsync();
        return Status();
    }

    /// <summary>
    /// The silo's own check of a submitted spec (whatever the client checked): every field, every planned trial, the
    /// operator's limits (applied where the spec is silent) and each dataset file against this silo's data policy.
    /// Refusals are <see cref="SweepRefusedException"/>s naming the field: deterministic, never retried.
    /// </summary>
    private async Task<(SweepSpec Spec, IReadOnlyList<TrialPlan> Plans)> CheckAsync(SweepSpec spec)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(spec);
            SearchSpace.CheckSize(spec);   // before expanding, so a huge space costs nothing
            var plans = SearchSpace.Expand(spec);
            SpecParser.Recheck(spec, plans);
            spec = limits.Value.Apply(spec, SearchSpace.PlannedTrials(spec, plans));
            var dataset = spec.Dataset;
            // File checks stat and, for gzip, stream through up to the size cap: off the grain's scheduler.
            await Task.Run(() =>
            {
                foreach (string file in DatasetReader.FilesOf(dataset)) DataPolicy.Current.Probe(file);
                // Model size needs the images' shape and classes: the built-in set's are known, others are read.
                var (input, classes) = dataset.Name is not null
                    ? (SpecData.BuiltInInput, SpecData.BuiltInClasses)
                    : SpecData.Check(spec, plans);
                limits.Value.CheckModels(spec, plans, input, classes);
            });
            return (spec, plans);
        }
        catch (SpecException e)
        {
            logger.LogInformation("Sweep {Sweep}: spec refused ({Field}: {Reason})", SweepId, e.Field, e.Reason);
            throw new SweepRefusedException(e.Field, e.Reason);
        }
        catch (DatasetException e)
        {
            logger.LogInformation("Sweep {Sweep}: dataset refused ({Reason})", SweepId, e.Message);
            throw new SweepRefusedException("dataset", e.Message);
        }
    }

    public Task<SweepStatus?> GetStatusAsync() => Task.FromResult(state.State.Spec is null || _deleted ? null : Status());

    public Task<IReadOnlyList<TrialProgress>> GetRunningAsync(int from, int max)
    {
        if (state.State.Spec is null || _deleted) return Task.FromResult<IReadOnlyList<TrialProgress>>([]);
        return Task.FromResult<IReadOnlyList<TrialProgress>>(_book.InFlight.OrderBy(t => _book.IndexOf(t.TrialId))
            .Skip(Math.Max(0, from)).Take(Math.Clamp(max, 0, 10_000)).ToArray());
    }

    public Task<SweepSpec?> GetSpecAsync() => Task.FromResult(_deleted ? null : state.State.Spec);

    public Task<FrontReport?> GetFrontAsync() =>
        Task.FromResult(state.State.Spec is null || _deleted ? null : _book.FrontReport(SweepId));

    public async Task<IReadOnlyList<TrialResult>> GetResultsAsync(long from, int max)
    {
        if (state.State.Spec is null || _deleted) return [];
        return await store.ReadAsync(SweepId, Math.Max(0, from), Math.Clamp(max, 0, 5_000));
    }

    public async Task<SweepStatus?> CancelAsync()
    {
        if (state.State.Spec is null || _deleted) return null;
        if (IsFinished) return Status();
        state.State.Cancelled = true;
        state.State.StopReason ??= "cancelled by a client";
        _dirty = true;
        // Pending trials never start; they are stored as cancelled (and only then count as done), so every planned trial
        // has one outcome.
        await StorePendingAsCancelledAsync();
        var running = _book.InFlight.Select(t => t.TrialId).ToArray();
        await Task.WhenAll(running.Select(id => Trial(id).CancelAsync()));
        FinishIfDone();
        await WriteAsync();
        logger.LogInformation("Sweep {Sweep} cancelled; {Running} running trials told to stop", SweepId, running.Length);
        return Status();
    }

    public async Task<bool> DeleteAsync()
    {
        // A delete that failed half-way (in this activation) can be asked again: it does the remaining steps.
        if (state.State.Spec is null && !_deleted) return false;
        if (!_deleted && !IsFinished) await CancelAsync();
        _deleted = true;
        _watching?.Cancel();
        _leaseCheck?.Dispose();
        _flushTimer?.Dispose();
        while (_storing) await Task.Delay(10);   // the last append lands before the store goes
        await store.DeleteAsync(SweepId);
        await _writeGate.WaitAsync();
        try
        {
            if (state.State.Spec is not null)
                await resilience.StorageWrite.RunOnGrainAsync(_ => state.ClearStateAsync(), CancellationToken.None);
        }
        finally
        {
            _writeGate.Release();
        }
        await GrainFactory.GetGrain<ISweepRegistryGrain>(0).RemoveAsync(SweepId);
        if (await this.GetReminder(KeepAliveReminder) is { } reminder) await this.UnregisterReminder(reminder);
        logger.LogInformation("Sweep {Sweep} deleted", SweepId);
        DeactivateOnIdle();
        return true;
    }

    public Task ReportProgressAsync(string silo, IReadOnlyList<TrialEpoch> epochs)
    {
        if (state.State.Spec is null || _deleted) return Task.CompletedTask;
        var now = DateTime.UtcNow;
        foreach (var e in epochs)
        {
            _book.Progress(e.TrialId, e.Epoch, silo);
            if (_heardAt.ContainsKey(e.TrialId)) _heardAt[e.TrialId] = now;
        }
        return Task.CompletedTask;
    }

    public Task<string?> ReportRungAsync(string trialId, EpochRecord epoch)
    {
        // Only trials in flight are judged (a trial of a cancelled or deleted sweep is being stopped anyway).
        if (_asha is null || _deleted || state.State.Spec is null || !_book.IsInFlight(trialId)) return Task.FromResult<string?>(null);
        return Task.FromResult(_asha.Decide(trialId, _book.Plan(trialId).Params, epoch));
    }

    public async Task ReportResultAsync(TrialResult result)
    {
        if (state.State.Spec is null || _deleted || !_book.IsPlanned(result.TrialId)) return;
        if (_book.IsDone(result.TrialId))
        {
            // Stored already (it reported twice around a coordinator move): it only leaves the in-flight set.
            if (_book.Collect(result)) _dirty = true;
            Forget(result.TrialId);
            DispatchInBackground();
            return;
        }
        await StoreAsync([result]);
        FinishIfDone();
        if (IsFinished || DateTime.UtcNow - _lastWrite >= WriteInterval) await WriteAsync();
        else ScheduleFlush();
        DispatchInBackground();
    }

    private bool IsFinished => state.State.FinishedAt is not null;

    /// <summary>A cancelled sweep's waiting trials, stored as cancelled; put back in the queue if the store fails.</summary>
    private async Task StorePendingAsCancelledAsync()
    {
        var cancelled = _book.CancelPending(SweepId, state.State.StopReason ?? "sweep cancelled");
        try
        {
            await StoreAsync(cancelled);
        }
        catch
        {
            _book.Requeue(cancelled.Where(r => !_book.IsDone(r.TrialId)));
            throw;
        }
    }

    private ITrialGrain Trial(string trialId) => GrainFactory.GetGrain<ITrialGrain>(TrialRequest.TrialKey(SweepId, trialId));

    private IndexedResult[] Indexed(IReadOnlyList<TrialResult> results) =>
        results.Select(r => new IndexedResult(_book.IndexOf(r.TrialId),
            _book.GenerationOf(r.TrialId) is { } generation ? r with { Generation = generation } : r)).ToArray();

    /// <summary>
    /// nsga2: proposes every generation whose parents are done and returns what to store for the new trials at once: the
    /// kept results of an earlier run, or, in a cancelled sweep, a cancelled result for each (as for any trial not started).
    /// </summary>
    private List<TrialResult> ExtendPlan()
    {
        var added = _book.Extend();
        if (added.Count == 0) return [];
        _dirty = true;
        if (state.State.Cancelled) return [.. _book.CancelPending(SweepId, state.State.StopReason ?? "sweep cancelled")];
        var now = new List<TrialResult>();
        foreach (var plan in added)
            if (_reusable is not null && _reusable.Remove(plan.TrialId, out var kept) && kept.Params == plan.Params)
                now.Add(kept with { SweepId = SweepId });
        return now;
    }

    /// <summary>
    /// Every stored result by trial id (the first of each), without its layers and, unless early stopping needs them, its
    /// epochs: what nsga2 replays and early stopping's rung tables are rebuilt from.
    /// </summary>
    private async Task<Dictionary<string, TrialResult>> ReadAllStoredAsync(bool keepEpochs = false)
    {
        var all = new Dictionary<string, TrialResult>(StringComparer.Ordinal);
        for (long at = 0; ; )
        {
            var page = await store.ReadAsync(SweepId, at, ReadPage);
            foreach (var r in page) all.TryAdd(r.TrialId, r with { Epochs = keepEpochs ? r.Epochs : [], Layers = [] });
            at += page.Count;
            if (page.Count < ReadPage) return all;
        }
    }

    private void Forget(string trialId)
    {
        _placedOn.Remove(trialId);
        _heardAt.Remove(trialId);
    }

    /// <summary>
    /// Appends results to the store and then takes them into the book. Results that arrive while an append is on its way
    /// go together in the next one (one round trip per batch, not per result); the caller returns once its results are
    /// stored. A result the store already had (appended by an earlier activation) is taken into the book all the same.
    /// </summary>
    private async Task StoreAsync(IReadOnlyList<TrialResult> results)
    {
        if (results.Count == 0) return;
        _toStore.AddRange(results);
        var stored = _stored ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_storing) _ = StoreBatchesAsync();
        await stored.Task;
    }

    private async Task StoreBatchesAsync()
    {
        _storing = true;
        bool chained = false;
        try
        {
            while (_toStore.Count > 0)
            {
                var batch = _toStore;
                var done = _stored!;
                _toStore = [];
                _stored = null;
                try
                {
                    if (_deleted) throw new InvalidOperationException($"sweep {SweepId} was deleted");
                    // A chunk at a time (a cancelled 100,000-trial sweep stores its pending trials here); each chunk's
                    // trials count as done once that chunk is stored.
                    foreach (var chunk in batch.Chunk(ReadPage))
                    {
                        var fresh = await store.AppendAsync(SweepId, Indexed(chunk));
                        foreach (var r in chunk)
                        {
                            if (_book.Collect(r)) _dirty = true;
                            _asha?.Record(r);
                            Forget(r.TrialId);
                        }
                        state.State.Stored += fresh.Count(f => f);
                        // nsga2: a generation whose parents are now done is proposed; what it stores at once goes next.
                        if (ExtendPlan() is { Count: > 0 } more)
                        {
                            chained = true;
                            _toStore.AddRange(more);
                            _stored ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        }
                    }
                    done.SetResult();
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }
        }
        finally
        {
            _storing = false;
        }
        // What a new nsga2 generation stored at once, nobody awaits: it may be the sweep's last batch, or the one that
        // ended its proposals, so the sweep finishes here then and new trials are dispatched. (Awaited batches are
        // finished and dispatched by their callers.)
        if (chained)
        {
            FinishIfDone();
            if (_book.Pending > 0) DispatchInBackground();
            if (_dirty) ScheduleFlush();
        }
    }

    /// <summary>
    /// A state written before results moved out of it (an earlier release): its results go to the store (each once,
    /// however often this runs), its plan must be the one the spec expands to now, and it is rewritten in the new form.
    /// </summary>
    private async Task MigrateAsync(IReadOnlyList<TrialPlan> plans)
    {
        var spec = state.State.Spec!;
        if (state.State.Plans.Count > 0 && !state.State.Plans.Select(p => p.TrialId).SequenceEqual(plans.Select(p => p.TrialId)))
        {
            // Trials of another plan cannot be matched to this release's: refuse rather than run or count the wrong ones.
            throw new InvalidOperationException(
                $"sweep {SweepId} was written by an earlier release whose plan this release does not reproduce; "
                + "export it with that release");
        }
        _book = new SweepBook(spec, plans);
        var results = state.State.Results.Where(r => _book.IsPlanned(r.TrialId)).ToArray();
        foreach (var chunk in results.Chunk(ReadPage))
            await store.AppendAsync(SweepId, Indexed(chunk));
        foreach (var r in results) _book.Collect(r);
        state.State.Stored = await store.CountAsync(SweepId);
        state.State.Plans = [];
        state.State.Results = [];
        await WriteAsync();
        logger.LogInformation("Sweep {Sweep}: state of an earlier release migrated ({Results} results moved to the result store)",
            SweepId, results.Length);
    }

    /// <summary>
    /// Results stored after the state's last write (the coordinator stopped in between) go into the book now. Every stored
    /// result is a done trial: when the book then has fewer done trials than the store has results (appends of another
    /// activation landed below this state's position), the whole store is read again.
    /// </summary>
    private async Task ReadStoredTailAsync()
    {
        await ReadStoreFromAsync(state.State.Stored);
        if (_book.Finished < state.State.Stored)
        {
            logger.LogWarning("Sweep {Sweep}: the book lacks some stored results; reading all {Count} again", SweepId, state.State.Stored);
            await ReadStoreFromAsync(0);
        }
    }

    private async Task ReadStoreFromAsync(long from)
    {
        long at = from;
        while (true)
        {
            var page = await store.ReadAsync(SweepId, at, ReadPage);
            foreach (var r in page)
                if (_book.IsPlanned(r.TrialId) && _book.Collect(r)) _dirty = true;
            at += page.Count;
            if (page.Count < ReadPage) break;
        }
        state.State.Stored = Math.Max(state.State.Stored, at);
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
            _dirty = true;
            if (_sweepSpan is not null)
            {
                _sweepSpan.SetTag("completed", _book.CountOf(TrialStatus.Completed));
                _sweepSpan.SetTag("failed", _book.CountOf(TrialStatus.Failed));
                _sweepSpan.SetTag("status", state.State.Cancelled ? "cancelled" : "completed");
                _sweepSpan.Stop();
                _sweepSpan = null;
            }
            _book.Touch();
            _watching?.Cancel();
            _leaseCheck?.Dispose();
            _leaseCheck = null;
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
            while (!state.State.Cancelled && !IsFinished && !_deleted && _book.Pending > 0)
            {
                int room = await CapacityAsync() - _book.Running;
                if (room <= 0) break;
                room = (int)Math.Min(room, AffordableTrials());
                if (room <= 0)
                {
                    await StopForBudgetAsync();
                    break;
                }
                var batch = _book.Start(room);
                if (batch.Count == 0) continue;
                state.State.EpochsCharged += batch.Sum(p => (long)p.Params.Epochs);
                _dirty = true;
                await StartAllAsync(batch.Select(p => p.TrialId).ToArray());
            }
        }
        finally
        {
            _dispatching = false;
        }
        if (_dirty && (IsFinished || DateTime.UtcNow - _lastWrite >= WriteInterval)) await WriteAsync();
    }

    /// <summary>How many more trials the sweep's budget (trialEpochBudget) holds, each charged the most epochs of any trial.</summary>
    private long AffordableTrials()
    {
        if (state.State.Spec!.TrialEpochBudget is not { } budget) return long.MaxValue;
        _mostEpochs ??= Math.Max(1, SearchSpace.MostEpochs(state.State.Spec, _book.Plans));
        return Math.Max(0, budget - state.State.EpochsCharged) / _mostEpochs.Value;
    }

    /// <summary>
    /// The budget cannot pay for another trial: the trials not started are stored as cancelled with the reason, and the
    /// sweep ends as cancelled once the trials in flight (already paid for) finish.
    /// </summary>
    private async Task StopForBudgetAsync()
    {
        var s = state.State;
        s.Cancelled = true;
        s.StopReason = $"budget spent: {s.EpochsCharged} of trialEpochBudget {s.Spec!.TrialEpochBudget} trial-epochs started, "
            + $"{_book.Pending} trial(s) not started";
        _dirty = true;
        logger.LogInformation("Sweep {Sweep} stops: {Reason}", SweepId, s.StopReason);
        await StorePendingAsCancelledAsync();
        FinishIfDone();
        await WriteAsync();
    }

    /// <summary>
    /// Asks in-flight trials to start: each answers with the silo it runs on (whose death will start it again elsewhere)
    /// or with the result it stored already, which is stored and counted now. A trial that does not answer keeps its
    /// place; the lease check asks it again.
    /// </summary>
    private async Task StartAllAsync(IReadOnlyList<string> trialIds, int attempt = 1)
    {
        if (state.State.Cancelled)
        {
            // Cancelled: a trial lost with its silo (or silent for a lease) is not started again but recorded cancelled.
            await StoreAsync(trialIds.Where(_book.IsInFlight).Select(id => new TrialResult
            {
                TrialId = id, SweepId = SweepId, Status = TrialStatus.Cancelled, Params = _book.Plan(id).Params,
                Error = "sweep cancelled",
            }).ToArray());
            FinishIfDone();
            return;
        }
        var now = DateTime.UtcNow;
        var answers = await Task.WhenAll(trialIds.Select(async id =>
        {
            var request = RequestFor(_book.Plan(id));
            try
            {
                return await Trial(id).StartAsync(request).WaitAsync(StartCallTimeout);
            }
            catch (Exception e) when (e is TimeoutException || SweepResilience.IsTransient(e))
            {
                logger.LogWarning("Starting trial {Trial} failed ({Reason}); the lease check retries it", id, e.Message);
                return null;
            }
        }));
        var finished = new List<TrialResult>();
        var unanswered = new List<string>();
        for (int i = 0; i < trialIds.Count; i++)
        {
            string id = trialIds[i];
            if (!_book.IsInFlight(id)) continue;   // its report came in meanwhile
            if (answers[i] is not { } answer)
            {
                _heardAt[id] = DateTime.MinValue;   // the lease check asks again, whatever happens below
                unanswered.Add(id);
                continue;
            }
            _placedOn[id] = answer.Silo;
            _heardAt[id] = now;
            _book.Placed(id, answer.SiloName);
            if (answer.Result is { } result) finished.Add(result);
        }
        // Just after a silo's death calls may still be routed to it: try again in a few seconds (a few times) rather than
        // leave the trials to the next lease check.
        if (unanswered.Count > 0 && attempt < StartAttempts) _ = RetryStartAsync(unanswered, attempt + 1);
        if (finished.Count == 0) return;
        await StoreAsync(finished);
        foreach (var r in finished) Trial(r.TrialId).ForgetAsync().Ignore();
        FinishIfDone();
    }

    private async Task RetryStartAsync(IReadOnlyList<string> trialIds, int attempt)
    {
        try
        {
            await Task.Delay(StartRetryDelay * attempt);
            var still = trialIds.Where(id => _book.IsInFlight(id) && !_placedOn.ContainsKey(id)).ToArray();
            if (still.Length > 0 && !_deleted) await StartAllAsync(still, attempt);
        }
        catch (Exception e)
        {
            logger.LogDebug("Sweep {Sweep}: retrying starts failed ({Reason}); the lease check asks again", SweepId, e.Message);
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
                logger.LogWarning("Sweep {Sweep}: dispatching failed ({Reason}); the lease check and the next report retry",
                    SweepId, e.Message);
            }
        }
    }

    private TrialRequest RequestFor(TrialPlan plan)
    {
        var spec = state.State.Spec!;
        return new TrialRequest
        {
            SweepId = SweepId, TrialId = plan.TrialId, Params = plan.Params, Dataset = spec.Dataset,
            TrainLimit = spec.TrainLimit, MaxAttempts = spec.MaxAttempts, TraceParent = state.State.TraceParent,
            SaveModels = spec.SaveModels, MaxTrialSeconds = spec.MaxTrialSeconds,
            Rungs = spec.EarlyStopping?.Rungs ?? [],
        };
    }

    /// <summary>Membership (silos declared dead) and the lease check, while the sweep runs.</summary>
    private void StartWatching()
    {
        _leaseCheck ??= this.RegisterGrainTimer(CheckLeasesAsync,
            new GrainTimerCreationOptions(LeaseCheckPeriod, LeaseCheckPeriod) { Interleave = true, KeepAlive = true });
        if (_watching is not null) return;
        _watching = new CancellationTokenSource();
        _ = WatchMembershipAsync(_watching.Token);
    }

    /// <summary>
    /// Follows cluster membership: when a silo is declared dead, the trials that run on it start again on live silos
    /// (their grains activate anew; a trial that had stored its result hands it in instead).
    /// </summary>
    private async Task WatchMembershipAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stop))
            {
                var dead = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToHashSet();
                var lost = _placedOn.Where(kv => dead.Contains(kv.Value)).Select(kv => kv.Key).ToArray();
                if (lost.Length == 0) continue;
                foreach (var id in lost) _placedOn.Remove(id);
                logger.LogWarning("Sweep {Sweep}: {Count} trial(s) ran on a silo declared dead; starting them again", SweepId, lost.Length);
                SweepTelemetry.TrialsRestarted.Add(lost.Length);
                await StartAllAsync(lost);
                DispatchInBackground();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            logger.LogWarning("Sweep {Sweep}: following membership failed ({Reason}); the lease check still runs", SweepId, e.Message);
            _watching = null;
        }
    }

    /// <summary>Asks again the in-flight trials nothing was heard from within the lease (or whose start failed).</summary>
    private async Task CheckLeasesAsync(CancellationToken cancellationToken)
    {
        if ((IsFinished && _book.Running == 0) || _deleted) return;
        if (_watching is null) StartWatching();
        var cutoff = DateTime.UtcNow - Lease;
        var silent = _book.InFlight.Select(t => t.TrialId)
            .Where(id => !_heardAt.TryGetValue(id, out var at) || at < cutoff).ToArray();
        if (silent.Length > 0) await StartAllAsync(silent);
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
            // maxSlotShare: the most of the cluster's places this sweep takes, whatever is free.
            int share = _book.Spec.MaxSlotShare is { } part ? Math.Max(1, (int)Math.Floor(part * total)) : int.MaxValue;
            _capacity = Math.Max(1, Math.Min(total - others, share));
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

    /// <summary>
    /// Writes the state (one write at a time: results taken in meanwhile make the next one), and now and then the registry.
    /// </summary>
    private async Task WriteAsync()
    {
        if (_deleted) return;
        await _writeGate.WaitAsync();
        try
        {
            if (_deleted) return;
            _dirty = false;
            _lastWrite = DateTime.UtcNow;
            state.State.Book = _book.Save();
            await resilience.StorageWrite.RunOnGrainAsync(_ => state.WriteStateAsync(), CancellationToken.None);
        }
        finally
        {
            _writeGate.Release();
        }
        if (!_deleted && (IsFinished || DateTime.UtcNow - _registryAt >= RegistryInterval))
        {
            _registryAt = DateTime.UtcNow;
            var s = Status();
            await GrainFactory.GetGrain<ISweepRegistryGrain>(0).AddAsync(new SweepSummary(SweepId, s.Name, s.CreatedAt)
            {
                State = s.State, Done = s.Done, Total = s.Total, FinishedAt = s.FinishedAt,
            });
        }
    }

    /// <summary>The status snapshot, built again only when the book changed or a second passed (elapsed time, ETA).</summary>
    private SweepStatus Status()
    {
        var now = DateTime.UtcNow;
        if (_status is not null && _statusOf.Version == _book.Version && now - _statusOf.At < TimeSpan.FromSeconds(1)) return _status;
        var s = state.State;
        int completed = _book.CountOf(TrialStatus.Completed), failed = _book.CountOf(TrialStatus.Failed);
        int cancelled = _book.CountOf(TrialStatus.Cancelled), stopped = _book.CountOf(TrialStatus.Stopped);
        int done = completed + failed + cancelled + stopped;
        double elapsed = ((s.FinishedAt ?? DateTimeOffset.UtcNow) - s.CreatedAt).TotalSeconds;
        double? eta = null;
        int doneHere = done - _doneAtActivation;
        if (IsFinished) eta = 0;
        else if (doneHere > 0)
        {
            double rate = doneHere / Math.Max(1e-3, (now - _activatedAt).TotalSeconds);
            eta = (_book.Total - done) / rate;
        }
        var spec = s.Spec!;
        _statusOf = (_book.Version, now);
        return _status = new SweepStatus
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
            Stopped = stopped,
            Version = _book.Version,
            CreatedAt = s.CreatedAt,
            FinishedAt = s.FinishedAt,
            ElapsedSeconds = elapsed,
            EtaSeconds = eta,
            Hypervolume = _book.Front.Hypervolume,
            NodeHypervolume = _book.NodeFront.Hypervolume,
            InFlightLimit = _capacity,
            Reason = s.StopReason,
            CoordinatorSilo = silo.Name,
        };
    }
}
