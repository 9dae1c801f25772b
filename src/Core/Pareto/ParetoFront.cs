using Sweep.Core;
using Sweep.Core.Models;

namespace Sweep.Core.Pareto;

/// <summary>The measures a front can be built on, by the names specs and front.json use.</summary>
public static class Objectives
{
    /// <summary>Every objective name, in the spelling of the spec's "objectives".</summary>
    public static IReadOnlyList<string> Known => Vocabularies.Objectives.Names;

    /// <summary>The value of <paramref name="objective"/> (case-sensitive, one of <see cref="Known"/>) for a point.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Known"/>.</exception>
    public static double Of(FrontPoint p, string objective)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (!Vocabularies.Objectives.TryParse(objective, out var which)) throw Unknown(objective);
        return Of(p, which);
    }

    /// <summary>The value of an objective for a point.</summary>
    public static double Of(FrontPoint p, Objective objective)
    {
        ArgumentNullException.ThrowIfNull(p);
        return objective switch
        {
            Objective.Accuracy => p.Accuracy,
            Objective.WeightSparsity => p.WeightSparsity,
            Objective.NodeSparsity => p.NodeSparsity,
            _ => throw Unknown(objective.ToString()),
        };
    }

    /// <summary>A trial's final value of an objective; null when the trial has none (it did not complete).</summary>
    public static double? Of(TrialResult r, Objective objective)
    {
        ArgumentNullException.ThrowIfNull(r);
        return objective switch
        {
            Objective.Accuracy => r.Accuracy,
            Objective.WeightSparsity => r.WeightSparsity,
            Objective.NodeSparsity => r.NodeSparsity,
            _ => null,
        };
    }

    /// <summary>An objective's value measured after an epoch.</summary>
    public static double Of(EpochRecord e, Objective objective)
    {
        ArgumentNullException.ThrowIfNull(e);
        return objective switch
        {
            Objective.Accuracy => e.Accuracy,
            Objective.WeightSparsity => e.WeightSparsity,
            Objective.NodeSparsity => e.NodeSparsity,
            _ => double.NaN,
        };
    }

    /// <summary>
    /// An objective's value at an early-stopping rung: the epoch's accuracy and node sparsity, and for weight sparsity the
    /// planned rate (masks are permanent and reach exactly that rate at the end of the ramp; 0 without pruning).
    /// </summary>
    public static double AtRung(Objective objective, TrialParameters p, EpochRecord epoch)
    {
        ArgumentNullException.ThrowIfNull(p);
        return objective == Objective.WeightSparsity
            ? (p.PruneMethod == Vocabularies.PruneMethods.Name(PruneMethod.None) ? 0 : p.PruneRate)
            : Of(epoch, objective);
    }

    /// <summary>Throws unless <paramref name="objective"/> is one of <see cref="Known"/>.</summary>
    internal static void Check(string objective, string paramName)
    {
        if (!Known.Contains(objective)) throw Unknown(objective, paramName);
    }

    private static ArgumentException Unknown(string? objective, string paramName = "objective") =>
        new($"Unknown objective '{objective}'; expected one of {string.Join(", ", Known)}.", paramName);
}

/// <summary>
/// An incremental 2-objective Pareto front, both objectives maximized. A point is dominated when another is ≥ in both
/// objectives and > in at least one; identical points all stay; a point with a NaN objective is never on the front.
/// A trial's result is final: adding a TrialId that was added before is ignored (the first result wins), which keeps
/// the front equal to <see cref="NonDominated"/> over the same sequence. Not thread-safe (a grain owns one).
/// </summary>
public sealed class ParetoFront
{
    private readonly List<Member> _members = [];
    private readonly HashSet<string> _added = new(StringComparer.Ordinal);
    private FrontPoint[]? _points;

    /// <summary>A front over two objectives, each one of <see cref="Objectives.Known"/>.</summary>
    /// <exception cref="ArgumentException">An objective name is unknown.</exception>
    public ParetoFront(string first, string second)
    {
        Objectives.Check(first, nameof(first));
        Objectives.Check(second, nameof(second));
        First = first;
        Second = second;
    }

    /// <summary>The first objective: the primary sort key of <see cref="Points"/>.</summary>
    public string First { get; }

    /// <summary>The second objective.</summary>
    public string Second { get; }

    /// <summary>The front, sorted by the first objective descending, then the second descending, then TrialId (ordinal).</summary>
    public IReadOnlyList<FrontPoint> Points => _points ??= _members.Select(m => m.Point).ToArray();

    /// <summary>
    /// Offers a point to the front in O(front size): members it dominates leave. Returns whether the point is on the
    /// front afterwards; for a TrialId added before, nothing changes and the result says whether that trial is on the front.
    /// </summary>
    public bool Add(FrontPoint p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (!_added.Add(p.TrialId)) return _members.Exists(m => m.Point.TrialId == p.TrialId);

        var candidate = new Member(Objectives.Of(p, First), Objectives.Of(p, Second), p);
        if (double.IsNaN(candidate.A) || double.IsNaN(candidate.B)) return false;
        foreach (var m in _members)
            if (Dominates(m, candidate)) return false;

        _members.RemoveAll(m => Dominates(candidate, m));
        // TrialIds on the front are unique, so the search never finds an equal member.
        var at = _members.BinarySearch(candidate, Order.Instance);
        _members.Insert(at < 0 ? ~at : at, candidate);
        _points = null;
        return true;
    }

    /// <summary>
    /// Fills an empty front with the front of <paramref name="points"/> in O(n log n) (the same front as adding them one
    /// by one, which costs O(front) each): how a coordinator restores a saved front, which may hold thousands of ties.
    /// </summary>
    /// <exception cref="InvalidOperationException">The front already has points.</exception>
    public void Load(IEnumerable<FrontPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (_added.Count > 0) throw new InvalidOperationException("Load fills an empty front only.");
        var all = points.ToArray();
        foreach (var p in NonDominated(all, First, Second))
            _members.Add(new Member(Objectives.Of(p, First), Objectives.Of(p, Second), p));
        foreach (var p in all) _added.Add(p.TrialId);
        _points = null;
    }

    /// <summary>
    /// The batch front of <paramref name="points"/> in O(n log n), equal to adding them one by one to a new
    /// <see cref="ParetoFront"/>: the first point of each TrialId counts, NaN points are dropped, same order as <see cref="Points"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An objective name is unknown.</exception>
    public static IReadOnlyList<FrontPoint> NonDominated(IEnumerable<FrontPoint> points, string first, string second)
    {
        ArgumentNullException.ThrowIfNull(points);
        Objectives.Check(first, nameof(first));
        Objectives.Check(second, nameof(second));

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var members = new List<Member>();
        foreach (var p in points)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(points));
            if (!seen.Add(p.TrialId)) continue;
            var m = new Member(Objectives.Of(p, first), Objectives.Of(p, second), p);
            if (!double.IsNaN(m.A) && !double.IsNaN(m.B)) members.Add(m);
        }
        members.Sort(Order.Instance);

        // Walk groups of equal first objective in descending order; only a group's top second value can survive,
        // and it survives when no point with a larger first objective reaches it.
        var front = new List<FrontPoint>();
        var best = double.NegativeInfinity;
        var anyBefore = false;
        for (int i = 0; i < members.Count;)
        {
            var top = members[i];
            int j = i;
            for (; j < members.Count && members[j].A == top.A; j++)
                if (members[j].B == top.B && (!anyBefore || top.B > best)) front.Add(members[j].Point);
            if (!anyBefore || top.B > best) best = top.B;
            anyBefore = true;
            i = j;
        }
        return front;
    }

    /// <summary>The front as the wire record, with its hypervolume against <paramref name="referencePoint"/> (first, second).</summary>
    /// <exception cref="ArgumentException">The reference point does not have two coordinates, or one is NaN.</exception>
    public Front ToFront(IReadOnlyList<double> referencePoint)
    {
        ArgumentNullException.ThrowIfNull(referencePoint);
        if (referencePoint.Count != 2)
            throw new ArgumentException(
                $"A reference point has one value per objective (2), not {referencePoint.Count}.", nameof(referencePoint));
        return new Front
        {
            Objectives = [First, Second],
            ReferencePoint = [referencePoint[0], referencePoint[1]],
            Hypervolume = Hypervolume.Of(_members.Select(m => (m.A, m.B)), referencePoint[0], referencePoint[1]),
            Points = Points,
        };
    }

    private static bool Dominates(Member a, Member b) => a.A >= b.A && a.B >= b.B && (a.A > b.A || a.B > b.B);

    /// <summary>A point with its two objective values, read once.</summary>
    private readonly record struct Member(double A, double B, FrontPoint Point);

    /// <summary>First objective descending, second descending, TrialId ordinal: the order of <see cref="Points"/>.</summary>
    private sealed class Order : IComparer<Member>
    {
        public static readonly Order Instance = new();

        public int Compare(Member x, Member y)
        {
            var c = y.A.CompareTo(x.A);
            if (c != 0) return c;
            c = y.B.CompareTo(x.B);
            return c != 0 ? c : string.CompareOrdinal(x.Point.TrialId, y.Point.TrialId);
        }
    }
}
