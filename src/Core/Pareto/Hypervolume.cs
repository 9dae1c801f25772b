namespace Sweep.Core.Pareto;

/// <summary>The exact 2-D hypervolume of a set of points, both coordinates maximized.</summary>
public static class Hypervolume
{
    /// <summary>
    /// The area dominated by <paramref name="points"/> and bounded below by the reference point: the union of the
    /// rectangles [referenceX, x] × [referenceY, y]. Points not strictly better than the reference in both coordinates
    /// (NaN included) contribute nothing; dominated points and duplicates change nothing; no points give 0.
    /// O(n log n).
    /// </summary>
    /// <exception cref="ArgumentException">A reference coordinate is NaN.</exception>
    public static double Of(IEnumerable<(double X, double Y)> points, double referenceX, double referenceY)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (double.IsNaN(referenceX) || double.IsNaN(referenceY))
            throw new ArgumentException("The hypervolume reference point must not be NaN.", nameof(referenceX));

        // Comparisons with NaN are false, so this filter also drops NaN points.
        var above = points.Where(p => p.X > referenceX && p.Y > referenceY).ToArray();
        // x descending; for equal x the highest y comes first and the rest of that column adds nothing.
        Array.Sort(above, static (a, b) => b.X != a.X ? b.X.CompareTo(a.X) : b.Y.CompareTo(a.Y));

        double area = 0, top = referenceY;
        foreach (var (x, y) in above)
        {
            // Sweeping leftwards, each higher point adds the strip between the old and the new top, as wide as x allows.
            if (y <= top) continue;
            area += (x - referenceX) * (y - top);
            top = y;
        }
        return area;
    }
}
