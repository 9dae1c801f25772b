namespace Sweep.Core.Pareto;

/// <summary>
/// Non-dominated sorting and crowding distance of 2-objective points, both maximized (NSGA-II's order): front 0 is the
/// non-dominated points (equal points share a front), front 1 the non-dominated rest, and so on; within a front, the
/// crowding distance is the sum over both objectives of the normalized gap between a point's neighbours (ends infinite).
/// </summary>
public static class ParetoRanking
{
    /// <summary>Each point's front and crowding distance (same order as <paramref name="points"/>).</summary>
    public static (int[] Front, double[] Crowding) Rank(IReadOnlyList<(double A, double B)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var front = new int[points.Count];
        var crowding = new double[points.Count];
        // Sorted by A descending, then B descending, then index: a point is dominated iff an earlier point with a larger A
        // reaches its B, or the top B of its own A group is larger.
        var rest = Enumerable.Range(0, points.Count)
            .OrderByDescending(i => points[i].A).ThenByDescending(i => points[i].B).ThenBy(i => i).ToList();
        for (int f = 0; rest.Count > 0; f++)
        {
            var members = new List<int>();
            var dominated = new List<int>();
            double bestAbove = double.NegativeInfinity;
            for (int i = 0; i < rest.Count;)
            {
                int j = i;
                double top = points[rest[i]].B;
                for (; j < rest.Count && points[rest[j]].A == points[rest[i]].A; j++)
                {
                    int k = rest[j];
                    if (bestAbove >= points[k].B || top > points[k].B) dominated.Add(k);
                    else members.Add(k);
                }
                bestAbove = Math.Max(bestAbove, top);
                i = j;
            }
            foreach (int k in members) front[k] = f;
            Crowd(points, members, crowding);
            rest = dominated;   // still in the sorted order
        }
        return (front, crowding);
    }

    /// <summary>
    /// The indexes of <paramref name="points"/> best first: lower front, then larger crowding distance, then lower index.
    /// </summary>
    public static int[] Order(IReadOnlyList<(double A, double B)> points)
    {
        var (front, crowding) = Rank(points);
        return [.. Enumerable.Range(0, points.Count).OrderBy(i => front[i]).ThenByDescending(i => crowding[i]).ThenBy(i => i)];
    }

    private static void Crowd(IReadOnlyList<(double A, double B)> points, List<int> members, double[] crowding)
    {
        foreach (int k in members) crowding[k] = 0;
        foreach (var value in new Func<int, double>[] { k => points[k].A, k => points[k].B })
        {
            var sorted = members.OrderBy(value).ThenBy(k => k).ToList();
            double span = value(sorted[^1]) - value(sorted[0]);
            crowding[sorted[0]] = crowding[sorted[^1]] = double.PositiveInfinity;
            if (span <= 0) continue;
            for (int i = 1; i < sorted.Count - 1; i++) crowding[sorted[i]] += (value(sorted[i + 1]) - value(sorted[i - 1])) / span;
        }
    }
}
