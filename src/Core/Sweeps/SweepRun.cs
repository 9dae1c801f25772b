using Sweep.Core.Models;
using Sweep.Core.Search;

namespace Sweep.Core.Sweeps;

/// <summary>Where a sweep is in its life.</summary>
public enum SweepPhase
{
    /// <summary>Trials start as places free up.</summary>
    Running,
    /// <summary>Cancelled or its budget spent: no trial starts any more; those in flight finish.</summary>
    Draining,
    /// <summary>Every trial has its outcome.</summary>
    Finished,
    /// <summary>Removed: nothing of it answers any more.</summary>
    Deleted,
}

/// <summary>What to do with a trial's reported result.</summary>
public enum ReportAction
{
    /// <summary>Not a trial of this sweep, or the sweep is gone.</summary>
    Ignore,
    /// <summary>Its outcome is recorded already (a second report around a coordinator move): it only left the in-flight set.</summary>
    Forget,
    /// <summary>Store it (then <see cref="SweepRun.Stored"/>).</summary>
    Store,
}

/// <summary>
/// Trials to start now; or, when the budget just ran out (<see cref="BudgetSpent"/>), the waiting trials it stopped, to
/// store as cancelled (none when every waiting trial had finished meanwhile).
/// </summary>
public sealed record Starts(IReadOnlyList<TrialPlan> Start, IReadOnlyList<TrialResult> Stopped, bool BudgetSpent = false);

/// <summary>
/// The whole decision logic of one sweep, without Orleans: the book (plan, queue, in flight, done set, counts, fronts),
/// nsga2's proposals and the earlier run's results it keeps for them, Pareto-ASHA, the trial-epoch budget, cancel and its
/// reason, the phase and the status snapshot, over one persisted <see cref="SweepRecord"/>. Each method says what the
/// caller (the coordinator grain) must do: results to store, trials to start. A trial counts as done only once its result
/// is stored: the caller stores, then hands the stored results to <see cref="Stored"/>. Not thread-safe.
/// </summary>
public sealed class SweepRun
{
    private readonly SweepRecord _record;
    private readonly ParetoAsha? _asha;
    private readonly Dictionary<string, TrialResult>? _reusable;
    private int? _mostEpochs;
    private bool _deleted;
    private DateTime _activatedAt = DateTime.UtcNow;
    private int _doneAtActivation;
    private SweepStatus? _status;
    private (long Version, DateTime At) _statusOf;

    private SweepRun(string sweepId, SweepRecord record, SweepBook book, ParetoAsha? asha, Dictionary<string, TrialResult>? reusable)
    {
        SweepId = sweepId;
        _record = record;
        Book = book;
        _asha = asha;
        _reusable = reusable;
    }

    public string SweepId { get; }
    public SweepBook Book { get; }
    public SweepSpec Spec => Book.Spec;
    public SweepRecord Record => _record;

    /// <summary>The record changed since <see cref="Save"/>.</summary>
    public bool Dirty { get; private set; }

    /// <summary>No trial starts any more (cancelled by a client, or the budget is spent).</summary>
    public bool Cancelled => _record.Cancelled;

    public SweepPhase Phase => _deleted ? SweepPhase.Deleted
        : _record.FinishedAt is not null ? SweepPhase.Finished
        : _record.Cancelled ? SweepPhase.Draining
        : SweepPhase.Running;

    public bool IsFinished => _record.FinishedAt is not null;

    /// <summary>Waiting trials may start (the sweep runs and has some).</summary>
    public bool CanStart => Phase == SweepPhase.Running && Book.Pending > 0;

    /// <summary>Whether resuming needs every stored result (nsga2 replays its proposals, early stopping its rung tables).</summary>
    public static bool NeedsStoredResults(SweepSpec spec) =>
        spec.EarlyStopping is not null || spec.Search.Strategy == SearchStrategy.Nsga2;

    /// <summary>Whether those stored results must keep their epochs (early stopping's rung tables are built from them).</summary>
    public static bool NeedsEpochs(SweepSpec spec) => spec.EarlyStopping is not null;

    /// <summary>
    /// A new sweep of a checked spec and its plan, in <paramref name="record"/> (an empty one: the grain's state object).
    /// Returns the completed results of an earlier run to keep (to store first): those of planned trials with the same
    /// parameters (and, for nsga2, those of trials it proposes later).
    /// </summary>
    public static (SweepRun Run, IReadOnlyList<TrialResult> Keep) Submit(string sweepId, SweepRecord record, SweepSpec spec,
        IReadOnlyList<TrialPlan> plans, IReadOnlyList<TrialResult> completed, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(completed);
        if (record.Spec is not null) throw new ArgumentException("the record holds a sweep already", nameof(record));
        record.Spec = spec;
        record.CreatedAt = now;
        bool nsga2 = spec.Search.Strategy == SearchStrategy.Nsga2;
        var book = nsga2 ? new SweepBook(spec, new Nsga2Planner(spec)) : new SweepBook(spec, plans);
        Dictionary<string, TrialResult>? reusable = null;
        if (nsga2)
        {
            reusable = new Dictionary<string, TrialResult>(StringComparer.Ordinal);
            foreach (var r in completed.Where(r => r.Status == TrialStatus.Completed)) reusable.TryAdd(r.TrialId, r);
        }
        var run = new SweepRun(sweepId, record, book, spec.EarlyStopping is null ? null : new ParetoAsha(spec), reusable)
        {
            Dirty = true,
        };
        return (run, SweepBook.Reusable(plans, completed, sweepId));
    }

    /// <summary>
    /// A sweep carried on from its record (written in the current form: <see cref="SweepRecord.IsLegacy"/> is false).
    /// <paramref name="stored"/>: every stored result by trial id, when <see cref="NeedsStoredResults"/> says so.
    /// </summary>
    public static SweepRun Resume(string sweepId, SweepRecord record, IReadOnlyDictionary<string, TrialResult>? stored)
    {
        ArgumentNullException.ThrowIfNull(record);
        var spec = record.Spec ?? throw new ArgumentException("the record holds no sweep", nameof(record));
        var saved = record.Book ?? throw new ArgumentException("the record is of an earlier release: migrate it first", nameof(record));
        if (NeedsStoredResults(spec) && stored is null) throw new ArgumentNullException(nameof(stored));
        ParetoAsha? asha = null;
        if (spec.EarlyStopping is not null)
        {
            asha = new ParetoAsha(spec);
            foreach (var r in stored!.Values) asha.Record(r);
        }
        // nsga2: the sampler's proposals follow from the stored results alone: replayed, they are the ones it made.
        var book = spec.Search.Strategy == SearchStrategy.Nsga2
            ? new SweepBook(spec, Nsga2Planner.Replay(spec, stored!), saved)
            : new SweepBook(spec, SearchSpace.Expand(spec), saved);
        return new SweepRun(sweepId, record, book, asha, null);
    }

    /// <summary>The record to persist, with the book's current state; <see cref="Dirty"/> is false after.</summary>
    public SweepRecord Save()
    {
        _record.Book = Book.Save();
        Dirty = false;
        return _record;
    }

    /// <summary>
    /// The coordinator (re)activated with the book complete: the ETA counts from here, and the status shows the move.
    /// </summary>
    public void Activated(DateTime now)
    {
        _activatedAt = now;
        _doneAtActivation = Book.Finished;
        Book.Touch();
    }

    // ---- the result store ----

    /// <summary>
    /// A result found in the store (stored by an earlier activation after the record's last write): counted if new.
    /// </summary>
    public void Found(TrialResult result)
    {
        if (Book.IsPlanned(result.TrialId) && Book.Collect(result)) Dirty = true;
    }

    /// <summary>The store was read up to <paramref name="position"/>: a later activation reads on from there.</summary>
    public void ReadTo(long position)
    {
        if (position > _record.Stored) Dirty = true;
        _record.Stored = Math.Max(_record.Stored, position);
    }

    /// <summary>
    /// The book has fewer done trials than the store holds results (appends of another activation landed below the
    /// record's position): the whole store must be read again.
    /// </summary>
    public bool LacksStored => Book.Finished < _record.Stored;

    /// <summary>
    /// Results the store now holds (<paramref name="fresh"/> of them new to it) count as done; returns what must be stored
    /// next: for nsga2, the results a generation proposed by them gets at once (see <see cref="Extend"/>).
    /// </summary>
    public IReadOnlyList<TrialResult> Stored(IReadOnlyList<TrialResult> results, int fresh)
    {
        ArgumentNullException.ThrowIfNull(results);
        foreach (var r in results)
        {
            if (Book.Collect(r)) Dirty = true;
            _asha?.Record(r);
        }
        if (fresh > 0)
        {
            _record.Stored += fresh;
            Dirty = true;
        }
        return Extend();
    }

    /// <summary>
    /// nsga2: proposes every generation whose parents are done and returns what to store for its trials at once: the kept
    /// results of an earlier run, or, in a cancelled sweep, a cancelled result for each (as for any trial not started).
    /// </summary>
    public IReadOnlyList<TrialResult> Extend()
    {
        var added = Book.Extend();
        if (added.Count == 0) return [];
        Dirty = true;
        if (_record.Cancelled) return Book.CancelPending(SweepId, StopReason);
        var keep = new List<TrialResult>();
        foreach (var plan in added)
            if (_reusable is not null && _reusable.Remove(plan.TrialId, out var kept) && kept.Params == plan.Params)
                keep.Add(kept with { SweepId = SweepId });
        return keep;
    }

    // ---- trials ----

    /// <summary>What to do with a trial's reported result.</summary>
    public ReportAction OnReport(TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (_deleted || !Book.IsPlanned(result.TrialId)) return ReportAction.Ignore;
        if (!Book.IsDone(result.TrialId)) return ReportAction.Store;
        if (Book.Collect(result)) Dirty = true;
        return ReportAction.Forget;
    }

    /// <summary>A running trial reached an epoch: null when it goes on, else why early stopping stops it.</summary>
    public string? OnRung(string trialId, EpochRecord epoch)
    {
        // Only trials in flight are judged (a trial of a cancelled or deleted sweep is being stopped anyway).
        if (_asha is null || _deleted || !Book.IsInFlight(trialId)) return null;
        return _asha.Decide(trialId, Book.Plan(trialId).Params, epoch);
    }

    /// <summary>
    /// Up to <paramref name="room"/> waiting trials to start now, within the trial-epoch budget. When the budget cannot
    /// pay for another trial, the sweep stops: every waiting trial comes back in <see cref="Starts.Stopped"/>, cancelled
    /// with the reason, to store; the sweep ends once the trials in flight (already paid for) finish.
    /// </summary>
    public Starts TakeStarts(int room)
    {
        if (!CanStart || room <= 0) return new Starts([], []);
        long affordable = AffordableTrials();
        if (affordable <= 0)
        {
            var s = _record;
            s.Cancelled = true;
            s.StopReason = $"budget spent: {s.EpochsCharged} of trialEpochBudget {Spec.TrialEpochBudget} trial-epochs started, "
                + $"{Book.Pending} trial(s) not started";
            Dirty = true;
            Book.Touch();
            return new Starts([], Book.CancelPending(SweepId, s.StopReason), BudgetSpent: true);
        }
        var batch = Book.Start((int)Math.Min(room, affordable));
        if (batch.Count > 0)
        {
            _record.EpochsCharged += batch.Sum(p => (long)p.Params.Epochs);
            Dirty = true;
        }
        return new Starts(batch, []);
    }

    /// <summary>How many more trials the sweep's budget (trialEpochBudget) holds, each charged the most epochs of any trial.</summary>
    private long AffordableTrials()
    {
        if (Spec.TrialEpochBudget is not { } budget) return long.MaxValue;
        _mostEpochs ??= Math.Max(1, SearchSpace.MostEpochs(Spec, Book.Plans));
        return Math.Max(0, budget - _record.EpochsCharged) / _mostEpochs.Value;
    }

    /// <summary>
    /// Cancels the sweep: no trial starts any more. Returns the waiting trials' cancelled results to store (put them back
    /// with <see cref="Requeue"/> if the store fails); the caller tells the trials in flight to stop.
    /// </summary>
    public IReadOnlyList<TrialResult> Cancel(string reason)
    {
        if (Phase is SweepPhase.Finished or SweepPhase.Deleted) return [];
        if (!_record.Cancelled || _record.StopReason is null)
        {
            Dirty = true;
            Book.Touch();   // the status shows it at once, even with no waiting trial to cancel
        }
        _record.Cancelled = true;
        _record.StopReason ??= reason;
        return Book.CancelPending(SweepId, StopReason);
    }

    /// <summary>Why trials are cancelled: the stop reason, or "sweep cancelled".</summary>
    public string StopReason => _record.StopReason ?? "sweep cancelled";

    /// <summary>Puts cancelled results that could not be stored back in the queue.</summary>
    public void Requeue(IEnumerable<TrialResult> cancelled) => Book.Requeue(cancelled.Where(r => !Book.IsDone(r.TrialId)));

    /// <summary>
    /// Trials in flight that a cancelled sweep does not start again (lost with their silo, or silent for a lease): their
    /// cancelled results, to store.
    /// </summary>
    public IReadOnlyList<TrialResult> NotRestarted(IEnumerable<string> trialIds) =>
        trialIds.Where(Book.IsInFlight).Select(id => TrialOutcome.Cancelled(SweepId, Book.Plan(id), "sweep cancelled")).ToArray();

    /// <summary>Marks the sweep finished when every trial has its outcome: true the moment it does.</summary>
    public bool TryFinish(DateTimeOffset now)
    {
        if (IsFinished || _deleted || !Book.AllFinished) return false;
        _record.FinishedAt = now;
        Dirty = true;
        Book.Touch();
        return true;
    }

    /// <summary>The sweep is removed: nothing of it answers any more.</summary>
    public void Delete() => _deleted = true;

    // ---- status ----

    /// <summary>The status snapshot, built again only when the book changed or a second passed (elapsed time, ETA).</summary>
    public SweepStatus Status(DateTime now, int inFlightLimit, string coordinatorSilo)
    {
        if (_status is not null && _statusOf.Version == Book.Version && now - _statusOf.At < TimeSpan.FromSeconds(1)
            && _status.InFlightLimit == inFlightLimit)
            return _status;
        var s = _record;
        int completed = Book.CountOf(TrialStatus.Completed), failed = Book.CountOf(TrialStatus.Failed);
        int cancelled = Book.CountOf(TrialStatus.Cancelled), stopped = Book.CountOf(TrialStatus.Stopped);
        int done = completed + failed + cancelled + stopped;
        double elapsed = ((s.FinishedAt ?? new DateTimeOffset(now)) - s.CreatedAt).TotalSeconds;
        double? eta = null;
        int doneHere = done - _doneAtActivation;
        if (IsFinished) eta = 0;
        else if (doneHere > 0)
        {
            double rate = doneHere / Math.Max(1e-3, (now - _activatedAt).TotalSeconds);
            eta = (Book.Total - done) / rate;
        }
        _statusOf = (Book.Version, now);
        return _status = new SweepStatus
        {
            SweepId = SweepId,
            Name = Spec.Name,
            State = s.Cancelled ? SweepState.Cancelled : IsFinished ? SweepState.Completed : SweepState.Running,
            Total = Book.Total,
            Pending = Book.Pending,
            Running = Book.Running,
            Completed = completed,
            Failed = failed,
            Cancelled = cancelled,
            Stopped = stopped,
            Version = Book.Version,
            CreatedAt = s.CreatedAt,
            FinishedAt = s.FinishedAt,
            ElapsedSeconds = elapsed,
            EtaSeconds = eta,
            Hypervolume = Book.Front.Hypervolume,
            NodeHypervolume = Book.NodeFront.Hypervolume,
            InFlightLimit = inFlightLimit,
            Reason = s.StopReason,
            CoordinatorSilo = coordinatorSilo,
        };
    }
}
