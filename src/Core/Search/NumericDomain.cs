using System.Globalization;

namespace Sweep.Core.Search;

/// <summary>An interval of allowed numbers, optionally integers only; open or closed at either end.</summary>
public sealed record NumericDomain(double Min, bool MinInclusive, double Max, bool MaxInclusive, bool Integer)
{
    public static NumericDomain Real(double min, bool minInclusive, double max, bool maxInclusive) =>
        new(min, minInclusive, max, maxInclusive, false);

    public static NumericDomain Int(long min, long max) => new(min, true, max, true, true);

    public bool Contains(double value) =>
        double.IsFinite(value)
        && (MinInclusive ? value >= Min : value > Min)
        && (MaxInclusive ? value <= Max : value < Max)
        && (!Integer || Math.Floor(value) == value);

    /// <summary>The rule in words, e.g. "must be > 0", "must be in [0, 1)", "must be an integer in [0, 10000]".</summary>
    public string Describe()
    {
        string what = Integer ? "an integer " : "";
        if (double.IsPositiveInfinity(Max)) return $"must be {what}{(MinInclusive ? "≥" : ">")} {Format(Min)}";
        return $"must be {what}in {(MinInclusive ? "[" : "(")}{Format(Min)}, {Format(Max)}{(MaxInclusive ? "]" : ")")}";
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
