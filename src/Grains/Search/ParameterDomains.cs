using System.Globalization;
using Sweep.Training.Models;
using Sweep.Training.Pruning;
using Sweep.Training.Regularization;

namespace Sweep.Grains.Search;

/// <summary>
/// The valid values of every trial parameter. Mirrors <c>TrialSettings.Validate</c> so that a bad spec fails
/// when it is parsed, naming its field, instead of in every trial.
/// </summary>
internal static class ParameterDomains
{
    /// <summary>The parameters a search space may vary, in the order the contract lists them.</summary>
    public static readonly IReadOnlyList<string> Searchable =
        ["model", "regularizer", "lambda", "pruneRate", "pruneMethod", "temperature", "learningRate", "epochs"];

    /// <summary>The allowed names of a text parameter, or null for a numeric one.</summary>
    public static IReadOnlyList<string>? Names(string parameter) => parameter switch
    {
        "model" => PrunableNetwork.Known,
        "regularizer" => Regularizer.Known,
        "pruneMethod" => Pruner.Known,
        _ => null,
    };

    /// <summary>What a text parameter's known names are called in messages.</summary>
    public static string NameKind(string parameter) => parameter switch
    {
        "pruneMethod" => "prune method",
        _ => parameter,
    };

    public static readonly NumericDomain Lambda = NumericDomain.Real(0, false, double.PositiveInfinity, false);
    public static readonly NumericDomain PruneRate = NumericDomain.Real(0, true, 1, false);
    public static readonly NumericDomain Temperature = NumericDomain.Real(0, false, double.PositiveInfinity, false);
    public static readonly NumericDomain LearningRate = NumericDomain.Real(0, false, double.PositiveInfinity, false);
    public static readonly NumericDomain Momentum = NumericDomain.Real(0, true, 1, false);
    public static readonly NumericDomain RampFraction = NumericDomain.Real(0, false, 1, true);
    public static readonly NumericDomain Epochs = NumericDomain.Int(0, 10_000);
    public static readonly NumericDomain BatchSize = NumericDomain.Int(1, 65_536);
    public static readonly NumericDomain Interval = NumericDomain.Int(1, int.MaxValue);
    public static readonly NumericDomain TrainLimit = NumericDomain.Int(1, int.MaxValue);

    /// <summary>The domain of a numeric searchable parameter, or null for a text one.</summary>
    public static NumericDomain? Numeric(string parameter) => parameter switch
    {
        "lambda" => Lambda,
        "pruneRate" => PruneRate,
        "temperature" => Temperature,
        "learningRate" => LearningRate,
        "epochs" => Epochs,
        _ => null,
    };
}

/// <summary>An interval of allowed numbers, optionally integers only; open or closed at either end.</summary>
internal sealed record NumericDomain(double Min, bool MinInclusive, double Max, bool MaxInclusive, bool Integer)
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
