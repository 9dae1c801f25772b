using Sweep.Core.Models;
using Sweep.Core.Pareto;

namespace Sweep.Core.Sweeps;

/// <summary>
/// The bookkeeping of one sweep, as its coordinator keeps it: the plan, the trials waiting to start, those in flight,
/// every finished trial with its outcome counted, and both Pareto fronts. Plain data and rules, no Orleans: the grain
/// adds persistence, timers, the reminder and the span. Results are appended to the list it is given (the grain's
/// durable state), in the order they finish; a trial is recorded once, whatever reports it again. Not thread-safe.
/// </summary>
public sealed class SweepBook
{
    private readonly Dictionary<string, TrialPlan> _plans = new(StringComparer.Ordinal);
    private readonly HashSet<string> _finished = new(StringComparer.Ordinal);
    private readonly Queue<TrialPlan> _pending = new();
    private readonly Dictionary<string, TrialProgress> _inFlight = new(StringComparer.Ordinal);
    private readonly int[] _counts = new int[Enum.GetValues<TrialStatus>().Length];
    private readonly List<TrialResult> _results;
    private readonly ParetoFront _front;
    private readonly ParetoFront _nodeFront;

    /// <summary>
    /// The book of a sweep with these plans, and the results recorded so far (<paramref name="results"/> is kept and
    /// appended to). Every planned trial without a result waits, in plan order.
    /// </summary>
    public SweepBook(SweepSpec spec, IReadOnlyList<TrialPlan> plans, List<TrialResult> results)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plans);
        Spec = spec;
        _results = results ?? throw new ArgumentNullException(nameof(results));
        _front = new ParetoFront(spec.Objectives[0], spec.Objectives[1]);
        _nodeFront = new ParetoFront(
            Vocabularies.Objectives.Name(Objective.Accuracy), Vocabularies.Objectives.Name(Objective.NodeSparsity));
        foreach (var p in plans) _plans[p.TrialId] = p;
        foreach (var r in results)
        {
            _finished.Add(r.TrialId);
            Count(r);
        }
        foreach (var p in plans)
            if (!_finished.Contains(p.TrialId)) _pending.Enqueue(p);
        Models = plans.Select(p => p.Params.Model).Distinct(StringComparer.Ordinal).ToArray();
    }

    public SweepSpec Spec { get; }

    /// <summary>The models the sweep's trials train.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>Grows with every change a status reader could see.</summary>
    public long Version { get; private set; }

    public int Total => _plans.Count;
    public int Pending => _pending.Count;
    public int Running => _inFlight.Count;
    public int Finished => _finished.Count;
    public bool AllFinished => _finished.Count == _plans.Count;

    /// <summary>Finished trials with this outcome.</summary>
    public int CountOf(TrialStatus status) => _counts[(int)status];

    /// <summary>Finished trials in the order they finished.</summary>
    public IReadOnlyList<TrialResult> Results => _results;

    public IReadOnlyCollection<TrialProgress> InFlight => _inFlight.Values;

    public bool IsPlanned(string trialId) => _plans.ContainsKey(trialId);

    public bool IsInFlight(string trialId) => _inFlight.ContainsKey(trialId);

    public TrialPlan Plan(string trialId) => _plans[trialId];

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
        if (!_plans.ContainsKey(result.TrialId)) return false;
        if (_finished.Add(result.TrialId))
        {
            _inFlight.Remove(result.TrialId);
            _results.Add(result);
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
        while (batch.Count < room && _pending.TryDequeue(out var plan))
        {
            if (_finished.Contains(plan.TrialId)) continue;
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

    /// <summary>Records every waiting trial as cancelled (so each planned trial has one outcome); returns how many.</summary>
    public int CancelPending(string sweepId)
    {
        int n = 0;
        while (_pending.TryDequeue(out var plan))
        {
            if (_finished.Contains(plan.TrialId)) continue;
            Collect(new TrialResult
            {
                TrialId = plan.TrialId, SweepId = sweepId, Status = TrialStatus.Cancelled, Params = plan.Params, Error = "sweep cancelled",
            });
            n++;
        }
        return n;
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
