using Sweep.Core.Models;
using Sweep.Core.Pareto;

namespace Sweep.Core.Sweeps;

/// <summary>
/// What a coordinator persists of its book: the done set, the outcome counts and both fronts. Its size depends on the
/// fronts and on how far finishing runs ahead of the oldest unfinished trial, not on the sweep's size; the results
/// themselves live in the sweep's result store.
/// </summary>
[GenerateSerializer, Alias("Sweep.BookState")]
public sealed class BookState
{
    [Id(0)] public int DonePrefix { get; set; }
    [Id(1)] public byte[] DoneWindow { get; set; } = [];
    /// <summary>Finished trials by <see cref="TrialStatus"/>.</summary>
    [Id(2)] public int[] Counts { get; set; } = [];
    /// <summary>
    /// The trials on either front, grouped by their objective values: (accuracy, weight sparsity, node sparsity) per group,
    /// with the group's plan indexes in <see cref="FrontMembers"/> (as <see cref="IndexRuns"/>). Tied trials all stay on a
    /// front (algorithm.md), so a sweep of identical outcomes has one group whatever its size.
    /// </summary>
    [Id(3)] public double[] FrontValues { get; set; } = [];
    [Id(4)] public List<byte[]> FrontMembers { get; set; } = [];
}

/// <summary>
/// The bookkeeping of one sweep, as its coordinator keeps it: the plan (re-expanded from the spec, never stored), the
/// trials waiting to start, those in flight, which planned trials are done (a <see cref="DoneSet"/> over plan indexes),
/// the outcome counts and both Pareto fronts. Results themselves are not kept: the grain appends each to the sweep's
/// result store. Plain data and rules, no Orleans: the grain adds persistence, timers, the reminder and the span.
/// A trial is recorded once, whatever reports it again. Not thread-safe.
/// </summary>
public sealed class SweepBook
{
    private readonly IReadOnlyList<TrialPlan> _plans;
    private readonly Search.Nsga2Planner? _planner;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly DoneSet _done;
    private readonly Queue<int> _pending = new();
    private readonly Dictionary<string, TrialProgress> _inFlight = new(StringComparer.Ordinal);
    private readonly int[] _counts = new int[Enum.GetValues<TrialStatus>().Length];
    private readonly ParetoFront _front;
    private readonly ParetoFront _nodeFront;

    /// <summary>
    /// The book of a sweep with these plans (<see cref="Search.SearchSpace.Expand"/> of the spec, in plan order), resumed
    /// from <paramref name="saved"/> when given. Every planned trial not done waits, in plan order.
    /// </summary>
    public SweepBook(SweepSpec spec, IReadOnlyList<TrialPlan> plans, BookState? saved = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plans);
        Spec = spec;
        _plans = plans;
        _front = new ParetoFront(spec.Objectives[0], spec.Objectives[1]);
        _nodeFront = new ParetoFront(
            Vocabularies.Objectives.Name(Objective.Accuracy), Vocabularies.Objectives.Name(Objective.NodeSparsity));
        for (int i = 0; i < plans.Count; i++) _index[plans[i].TrialId] = i;
        _done = saved is null ? new DoneSet() : new DoneSet(saved.DonePrefix, saved.DoneWindow);
        if (saved is not null)
        {
            saved.Counts.AsSpan(0, Math.Min(saved.Counts.Length, _counts.Length)).CopyTo(_counts);
            // Every trial on either front, loaded into both: each front keeps exactly its own members again.
            var members = new List<FrontPoint>();
            for (int g = 0; g < saved.FrontMembers.Count; g++)
            {
                double acc = saved.FrontValues[3 * g], ws = saved.FrontValues[3 * g + 1], ns = saved.FrontValues[3 * g + 2];
                foreach (int i in IndexRuns.Decode(saved.FrontMembers[g]))
                    members.Add(new FrontPoint(plans[i].TrialId, plans[i].Params, acc, ws, ns));
            }
            _front.Load(members);
            _nodeFront.Load(members);
        }
        for (int i = 0; i < plans.Count; i++)
            if (!_done.Contains(i)) _pending.Enqueue(i);
        Models = plans.Select(p => p.Params.Model).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// The book of an nsga2 sweep: its plan is the planner's and grows by <see cref="Extend"/> (the planner replayed from
    /// the stored results when the sweep resumes, so that every trial the saved state counts is planned).
    /// </summary>
    public SweepBook(SweepSpec spec, Search.Nsga2Planner planner, BookState? saved = null) : this(spec, planner?.Plans!, saved)
    {
        _planner = planner;
        // The space's models, not only those proposed so far (capacity depends on whether they fuse).
        var model = spec.Search.Space.FirstOrDefault(d => d.Parameter == "model");
        Models = model is null ? [spec.Base.Model] : [.. model.Texts.Distinct(StringComparer.Ordinal)];
    }

    public SweepSpec Spec { get; }

    /// <summary>The models the sweep's trials train.</summary>
    public IReadOnlyList<string> Models { get; private set; }

    /// <summary>Grows with every change a status reader could see.</summary>
    public long Version { get; private set; }

    /// <summary>Trials the sweep runs: the plan's, or for nsga2 the trials it will propose in all.</summary>
    public int Total => _planner?.Target ?? _plans.Count;
    /// <summary>Every planned trial, in plan order.</summary>
    public IReadOnlyList<TrialPlan> Plans => _plans;
    public int Pending => _pending.Count;
    public int Running => _inFlight.Count;
    public int Finished => _done.Count;
    public bool AllFinished => _done.Count == Total;

    /// <summary>Finished trials with this outcome.</summary>
    public int CountOf(TrialStatus status) => _counts[(int)status];

    public IReadOnlyCollection<TrialProgress> InFlight => _inFlight.Values;

    public bool IsPlanned(string trialId) => _index.ContainsKey(trialId);

    public bool IsInFlight(string trialId) => _inFlight.ContainsKey(trialId);

    /// <summary>Whether a planned trial has its outcome recorded.</summary>
    public bool IsDone(string trialId) => _index.TryGetValue(trialId, out int i) && _done.Contains(i);

    public TrialPlan Plan(string trialId) => _plans[_index[trialId]];

    /// <summary>The trial's position in the plan (its bit in the done set and in the result store's).</summary>
    public int IndexOf(string trialId) => _index[trialId];

    /// <summary>The nsga2 generation that proposed a planned trial; null for grid and random search.</summary>
    public int? GenerationOf(string trialId) => _planner?.GenerationOf(_index[trialId]);

    /// <summary>
    /// nsga2: the trials of each generation whose parents are now all done, added to the plan and the queue (none for grid
    /// and random search, or while the next generation waits).
    /// </summary>
    public IReadOnlyList<TrialPlan> Extend()
    {
        if (_planner is null) return [];
        int target = _planner.Target;
        var added = _planner.Propose(_done.Contains);
        foreach (var plan in added)
        {
            int i = _index.Count;
            _index[plan.TrialId] = i;
            _pending.Enqueue(i);
        }
        if (added.Count > 0 || target != _planner.Target) Version++;
        return added;
    }

    /// <summary>What the coordinator persists: done set, counts, fronts (a copy).</summary>
    public BookState Save()
    {
        var (prefix, window) = _done.Save();
        var groups = _front.Points.Concat(_nodeFront.Points)
            .GroupBy(p => (p.Accuracy, p.WeightSparsity, p.NodeSparsity))
            .Select(g => (Values: g.Key, Members: g.Select(p => _index[p.TrialId]).Distinct().Order()))
            .ToArray();
        return new BookState
        {
            DonePrefix = prefix, DoneWindow = window, Counts = [.. _counts],
            FrontValues = [.. groups.SelectMany(g => new[] { g.Values.Accuracy, g.Values.WeightSparsity, g.Values.NodeSparsity })],
            FrontMembers = [.. groups.Select(g => IndexRuns.Encode(g.Members))],
        };
    }

    /// <summary>
    /// Completed results of an earlier run of the same plan that a new sweep keeps instead of running their trials again:
    /// those whose id and parameters match a planned trial, the first of each id, re-labelled with <paramref name="sweepId"/>.
    /// </summary>
    public static List<TrialResult> Reusable(IReadOnlyList<TrialPlan> plans, IEnumerable<TrialResult> completed, string sweepId)
    {
        var byId = plans.ToDictionary(p => p.TrialId, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return completed
            .Where(r => r.Status == TrialStatus.Completed && byId.TryGetValue(r.TrialId, out var plan) && plan.Params == r.Params)
            .Where(r => seen.Add(r.TrialId))
            .Select(r => r with { SweepId = sweepId })
            .ToList();
    }

    /// <summary>
    /// Takes a trial's result: recorded the first time (true). A trial recorded already (it reported twice around a
    /// coordinator move) only leaves the in-flight set, so it never holds a place for good. Unplanned trials are ignored.
    /// </summary>
    public bool Collect(TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!_index.TryGetValue(result.TrialId, out int i)) return false;
        if (_done.Add(i))
        {
            _inFlight.Remove(result.TrialId);
            _planner?.Observe(i, result);
            Count(result);
            Version++;
            return true;
        }
        if (_inFlight.Remove(result.TrialId)) Version++;
        return false;
    }

    /// <summary>
    /// Up to <paramref name="room"/> waiting trials, now in flight, in plan order. A trial that finished while it waited
    /// (it ran before a coordinator move) is dropped from the queue, not started again.
    /// </summary>
    public IReadOnlyList<TrialPlan> Start(int room)
    {
        var batch = new List<TrialPlan>(Math.Clamp(room, 0, _pending.Count));
        while (batch.Count < room && _pending.TryDequeue(out int i))
        {
            if (_done.Contains(i)) continue;
            var plan = _plans[i];
            _inFlight[plan.TrialId] = new TrialProgress(plan.TrialId, 0, plan.Params.Epochs, "");
            batch.Add(plan);
        }
        if (batch.Count > 0) Version++;
        return batch;
    }

    /// <summary>A running trial finished an epoch on a silo (progress only; ignored unless it is in flight).</summary>
    public void Progress(string trialId, int epoch, string silo)
    {
        if (!_inFlight.TryGetValue(trialId, out var progress)) return;
        _inFlight[trialId] = progress with { Epoch = epoch, Silo = silo };
        Version++;
    }

    /// <summary>Where a trial in flight runs (its grain said so when it was started); its epoch stays.</summary>
    public void Placed(string trialId, string silo)
    {
        if (!_inFlight.TryGetValue(trialId, out var progress) || progress.Silo == silo) return;
        _inFlight[trialId] = progress with { Silo = silo };
        Version++;
    }

    /// <summary>
    /// Takes every waiting trial off the queue (none of them will start) and returns a cancelled result for each, for the
    /// caller to store and then <see cref="Collect"/>: a trial counts as done only once its result is stored.
    /// </summary>
    public IReadOnlyList<TrialResult> CancelPending(string sweepId, string reason = "sweep cancelled")
    {
        var cancelled = new List<TrialResult>();
        while (_pending.TryDequeue(out int i))
        {
            if (_done.Contains(i)) continue;
            cancelled.Add(TrialOutcome.Cancelled(sweepId, _plans[i], reason));
        }
        if (cancelled.Count > 0) Version++;
        return cancelled;
    }

    /// <summary>Puts trials taken off the queue by <see cref="CancelPending"/> back (their results could not be stored).</summary>
    public void Requeue(IEnumerable<TrialResult> cancelled)
    {
        ArgumentNullException.ThrowIfNull(cancelled);
        foreach (var r in cancelled)
            if (_index.TryGetValue(r.TrialId, out int i) && !_done.Contains(i) && !_inFlight.ContainsKey(r.TrialId)) _pending.Enqueue(i);
        Version++;
    }

    /// <summary>Marks a change that is not in the book itself (the sweep finished, the coordinator moved).</summary>
    public void Touch() => Version++;

    /// <summary>The main front against the spec's reference point.</summary>
    public Front Front => _front.ToFront(Spec.ReferencePoint);

    /// <summary>The node front (accuracy vs node sparsity) against <see cref="NodeReference"/>.</summary>
    public Front NodeFront => _nodeFront.ToFront(NodeReference(Spec));

    /// <summary>front.json: both fronts.</summary>
    public FrontReport FrontReport(string sweepId)
    {
        var main = Front;
        return new FrontReport
        {
            SweepId = sweepId,
            Objectives = main.Objectives,
            ReferencePoint = main.ReferencePoint,
            Hypervolume = main.Hypervolume,
            Points = main.Points,
            NodeFront = NodeFront,
        };
    }

    /// <summary>The node front's reference point: the spec's accuracy reference, sparsity 0.</summary>
    public static IReadOnlyList<double> NodeReference(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string accuracy = Vocabularies.Objectives.Name(Objective.Accuracy);
        double accuracyReference = spec.Objectives[0] == accuracy ? spec.ReferencePoint[0]
            : spec.Objectives[1] == accuracy ? spec.ReferencePoint[1]
            : 0;
        return [accuracyReference, 0];
    }

    private void Count(TrialResult r)
    {
        _counts[(int)r.Status]++;
        if (r.Status != TrialStatus.Completed || r.Accuracy is not { } acc || r.WeightSparsity is not { } ws
            || r.NodeSparsity is not { } ns)
            return;
        var point = new FrontPoint(r.TrialId, r.Params, acc, ws, ns);
        _front.Add(point);
        _nodeFront.Add(point);
    }
}
