using System.Globalization;
using Sweep.Core.Models;
using Sweep.Core.Pareto;

namespace Sweep.Core.Sweeps;

/// <summary>
/// The "pareto-asha" early-stopping rule (algorithm.md, "Early stopping"), as a sweep's coordinator keeps it: for each
/// rung, the point every trial had there. A sweep has two fronts (its objectives, and accuracy vs node sparsity), and a
/// trial that reaches a rung (before its last epoch) is stopped only when it is out on both: on a front it is out when a
/// trial that completed had a point at that rung that dominates its own, or when, with enough trials at the rung, it is
/// not among the best <c>keep</c> of them by non-dominated sorting and crowding distance. At a rung, accuracy and node
/// sparsity are the epoch's; weight sparsity is the trial's prune rate (0 without pruning): masks are permanent and reach
/// exactly that rate at the end of the ramp, so it is known before training. Decisions depend on which trials reached the
/// rung first, as in any asynchronous successive halving. Not thread-safe.
/// </summary>
public sealed class ParetoAsha
{
    private readonly EarlyStoppingSpec _rule;
    private readonly (Objective First, Objective Second)[] _fronts;
    private readonly Dictionary<int, Dictionary<string, Entry>> _rungs = [];

    // A trial's point at a rung: accuracy, weight sparsity (planned) and node sparsity, by Objective.
    private readonly record struct Entry(double[] Values, bool Completed, int Order)
    {
        public double this[Objective o] => Values[(int)o];
    }

    public ParetoAsha(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        _rule = spec.EarlyStopping ?? throw new ArgumentException("the spec has no earlyStopping", nameof(spec));
        var main = (Vocabularies.Objectives.Parse(spec.Objectives[0]), Vocabularies.Objectives.Parse(spec.Objectives[1]));
        var node = (Objective.Accuracy, Objective.NodeSparsity);
        _fronts = main == node || main == (node.Item2, node.Item1) ? [main] : [main, node];
        foreach (int rung in _rule.Rungs) _rungs[rung] = new Dictionary<string, Entry>(StringComparer.Ordinal);
    }

    /// <summary>Trials judged at a rung so far (those that reached it).</summary>
    public int CountAt(int rung) => _rungs.TryGetValue(rung, out var table) ? table.Count : 0;

    /// <summary>
    /// A trial finished an epoch: null when it goes on (not a rung, its last epoch, or among the best), else why it stops.
    /// It is recorded at the rung either way.
    /// </summary>
    public string? Decide(string trialId, TrialParameters p, EpochRecord epoch)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(epoch);
        int rung = epoch.Epoch;
        if (!_rungs.TryGetValue(rung, out var table) || rung >= p.Epochs) return null;
        var values = Values(p, epoch);
        if (values.Any(double.IsNaN)) return null;
        table[trialId] = new Entry(values, false, table.TryGetValue(trialId, out var was) ? was.Order : table.Count);
        // Out on every front, or it goes on; the reason given is the main front's.
        string? reason = null;
        foreach (var front in _fronts)
        {
            string? out_ = OutOn(front, table, trialId, rung);
            if (out_ is null) return null;
            reason ??= out_;
        }
        return reason;
    }

    private string? OutOn((Objective First, Objective Second) front, Dictionary<string, Entry> table, string trialId, int rung)
    {
        var (f, g) = front;
        double a = table[trialId][f], b = table[trialId][g];
        foreach (var (other, e) in table)
            if (e.Completed && e[f] >= a && e[g] >= b && (e[f] > a || e[g] > b))
                return $"stopped at rung {rung}: completed trial {other} was better at epoch {rung} "
                    + $"({Name(f)} {F(e[f])} ≥ {F(a)}, {Name(g)} {F(e[g])} ≥ {F(b)})";

        int n = table.Count;
        if (n < (int)Math.Ceiling(1 / _rule.Keep)) return null;   // too few to judge: goes on
        int kept = Math.Max(1, (int)Math.Floor(_rule.Keep * n));
        var ids = table.OrderBy(kv => kv.Value.Order).Select(kv => kv.Key).ToArray();
        var order = ParetoRanking.Order([.. ids.Select(id => (table[id][f], table[id][g]))]);
        int position = Array.IndexOf(order, Array.IndexOf(ids, trialId));
        if (position < kept) return null;
        return $"stopped at rung {rung}: position {position + 1} of the {n} trials at epoch {rung} "
            + $"(non-dominated sorting on {Name(f)}, {Name(g)}; the best {kept} go on)";
    }

    private static double[] Values(TrialParameters p, EpochRecord epoch)
    {
        var values = new double[Enum.GetValues<Objective>().Length];
        foreach (var o in Enum.GetValues<Objective>()) values[(int)o] = Objectives.AtRung(o, p, epoch);
        return values;
    }

    /// <summary>
    /// A finished trial's points at each rung enter the tables (a completed one as completed: its points can stop others;
    /// a stopped one at the rung it reached). Other outcomes are not recorded.
    /// </summary>
    public void Record(TrialResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.Status is not (TrialStatus.Completed or TrialStatus.Stopped)) return;
        foreach (var epoch in r.Epochs)
        {
            if (!_rungs.TryGetValue(epoch.Epoch, out var table) || epoch.Epoch >= r.Params.Epochs) continue;
            var values = Values(r.Params, epoch);
            if (values.Any(double.IsNaN)) continue;
            int order = table.TryGetValue(r.TrialId, out var was) ? was.Order : table.Count;
            table[r.TrialId] = new Entry(values, r.Status == TrialStatus.Completed, order);
        }
    }

    private static string Name(Objective o) => Vocabularies.Objectives.Name(o);

    private static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
