using System.Text.Json;
using Sweep.Core;
using System.Globalization;
using Sweep.Core.Models;

namespace Sweep.Core.Search;

/// <summary>How a trial parameter's values are written: a name from a closed list, a real number, or an integer.</summary>
public enum ParameterKind { Text, Real, Integer }

/// <summary>
/// One trial parameter, described once: its name (search-space key and canonical-id name), where a spec sets its base
/// value, the `sweep trial` flag, its domain, whether trials that differ in it can train fused, and its telemetry tag.
/// The spec parser, the search space, trial ids and telemetry iterate <see cref="TrialParameterTable.All"/>.
/// </summary>
public sealed class TrialParameter
{
    public required string Name { get; init; }
    public required ParameterKind Kind { get; init; }
    /// <summary>The spec section holding the base value ("" = top level, "training", "pruning"); null: not set there (seed).</summary>
    public string? Section { get; init; }
    /// <summary>The key inside <see cref="Section"/> (differs from <see cref="Name"/> for pruning.method).</summary>
    public string? Key { get; init; }
    /// <summary>The `sweep trial` flag, without the dashes.</summary>
    public required string Flag { get; init; }
    public bool Searchable { get; init; }
    /// <summary>Trials that differ only in fusing parameters share initialization and batches, so they can train as one group.</summary>
    public bool Fuses { get; init; }
    public string? TelemetryTag { get; init; }
    /// <summary>
    /// How a plot legend names a value of this parameter when it varies across a plot's series ("τ 0.5", "20 epochs");
    /// null for parameters legends treat on their own (regularizer, λ, prune method and rate) or never show (seed).
    /// </summary>
    public Func<TrialParameters, string>? Legend { get; init; }
    /// <summary>Text parameters: the allowed names, and what they are called in messages.</summary>
    public IReadOnlyList<string>? Names { get; init; }
    public string? NameKind { get; init; }
    /// <summary>
    /// Text parameters without a closed list of names (the model): how a spec's JSON value (a name or an object) becomes
    /// the text trial parameters hold, and the problem with a text (null when it is fine).
    /// </summary>
    public Func<JsonElement, string, string>? ReadJson { get; init; }
    public Func<string, string?>? CheckText { get; init; }

    /// <summary>A text parameter's value from a spec; throws <see cref="SpecException"/> naming <paramref name="field"/>.</summary>
    public string ReadText(JsonElement e, string field)
    {
        if (ReadJson is not null) return ReadJson(e, field);
        if (e.ValueKind != JsonValueKind.String)
            throw new SpecException(field, $"expected a string, got {e.ValueKind.ToString().ToLowerInvariant()}");
        string text = e.GetString()!;
        return TextProblem(text) is { } problem ? throw new SpecException(field, problem) : text;
    }

    /// <summary>Why a text is not a value of this parameter, or null when it is.</summary>
    public string? TextProblem(string text)
    {
        if (CheckText is not null) return CheckText(text);
        return Names!.Contains(text) ? null : $"unknown {NameKind} '{text}' (known: {string.Join(", ", Names!)})";
    }
    /// <summary>Numeric parameters: the allowed interval.</summary>
    public NumericDomain? Domain { get; init; }

    internal Func<TrialParameters, string>? GetText { get; init; }
    internal Func<TrialParameters, string, TrialParameters>? SetText { get; init; }
    internal Func<TrialParameters, double>? GetReal { get; init; }
    internal Func<TrialParameters, double, TrialParameters>? SetReal { get; init; }
    internal Func<TrialParameters, long>? GetInteger { get; init; }
    internal Func<TrialParameters, long, TrialParameters>? SetInteger { get; init; }

    /// <summary>The JSON path of the base value in a spec (e.g. "training.epochs", "pruning.method"), or null.</summary>
    public string? JsonPath => Section is null ? null : Section.Length == 0 ? Key : $"{Section}.{Key}";

    /// <summary>The value as telemetry and plots see it: a string, a double or a long.</summary>
    public object Value(TrialParameters p) => Kind switch
    {
        ParameterKind.Text => GetText!(p),
        ParameterKind.Real => GetReal!(p),
        _ => GetInteger!(p),
    };

    public TrialParameters With(TrialParameters p, string text) =>
        Kind == ParameterKind.Text ? SetText!(p, text) : throw new InvalidOperationException($"{Name} is not a text parameter");

    public TrialParameters With(TrialParameters p, double number) => Kind switch
    {
        ParameterKind.Real => SetReal!(p, number),
        ParameterKind.Integer => SetInteger!(p, checked((long)number)),
        _ => throw new InvalidOperationException($"{Name} is not a numeric parameter"),
    };

    /// <summary>
    /// The value as the trial id hashes it: strings double-quoted with '\' and '"' backslash-escaped; doubles in the
    /// invariant "R" format with -0 written as 0 (records compare them equal, so ids must be too); integers in decimal.
    /// </summary>
    public string Canonical(TrialParameters p) => Kind switch
    {
        ParameterKind.Text => Quote(GetText!(p)),
        ParameterKind.Real => (GetReal!(p) is var v && v == 0 ? 0d : v).ToString("R", CultureInfo.InvariantCulture),
        _ => GetInteger!(p).ToString(CultureInfo.InvariantCulture),
    };

    // Quoting keeps the text unambiguous whatever a (possibly invalid) name contains.
    private static string Quote(string? value) =>
        value is null
            ? "null"
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>
/// Every trial parameter, in the order of <see cref="TrialParameters"/>' fields, which is the order the canonical
/// trial id lists them (<see cref="TrialIds.Canonical"/>). Adding a parameter: a field in TrialParameters, one entry
/// here, and its use in training.
/// </summary>
public static class TrialParameterTable
{
    public static IReadOnlyList<TrialParameter> All { get; } =
    [
        new() { Name = "model", Kind = ParameterKind.Text, Section = "", Key = "model", Flag = "model", Searchable = true,
            TelemetryTag = "model", Names = ModelSpec.Names, NameKind = "model",
            ReadJson = (e, field) => ModelSpec.Read(e, field).Text,
            CheckText = text => ModelSpec.TryParse(text, out var problem) is null ? problem : null,
            Legend = p => p.Model,
            GetText = p => p.Model, SetText = (p, v) => p with { Model = ModelSpec.TryParse(v, out _)?.Text ?? v } },
        new() { Name = "regularizer", Kind = ParameterKind.Text, Section = "", Key = "regularizer", Flag = "regularizer",
            Searchable = true, Fuses = true, TelemetryTag = "regularizer", Names = Vocabularies.Regularizers.Names,
            NameKind = "regularizer",
            GetText = p => p.Regularizer, SetText = (p, v) => p with { Regularizer = v } },
        new() { Name = "lambda", Kind = ParameterKind.Real, Section = "", Key = "lambda", Flag = "lambda", Searchable = true,
            Fuses = true, TelemetryTag = "lambda", Domain = NumericDomain.Real(0, false, double.PositiveInfinity, false),
            GetReal = p => p.Lambda, SetReal = (p, v) => p with { Lambda = v } },
        new() { Name = "pruneRate", Kind = ParameterKind.Real, Section = "", Key = "pruneRate", Flag = "prune-rate",
            Searchable = true, Fuses = true, TelemetryTag = "prune_rate", Domain = NumericDomain.Real(0, true, 1, false),
            GetReal = p => p.PruneRate, SetReal = (p, v) => p with { PruneRate = v } },
        new() { Name = "pruneMethod", Kind = ParameterKind.Text, Section = "pruning", Key = "method", Flag = "prune-method",
            Searchable = true, Fuses = true, TelemetryTag = "prune_method", Names = Vocabularies.PruneMethods.Names,
            NameKind = "prune method",
            GetText = p => p.PruneMethod, SetText = (p, v) => p with { PruneMethod = v } },
        new() { Name = "temperature", Kind = ParameterKind.Real, Section = "pruning", Key = "temperature", Flag = "temperature",
            Searchable = true, Fuses = true, Domain = NumericDomain.Real(0, false, double.PositiveInfinity, false),
            Legend = p => Invariant($"τ {p.Temperature:G4}"),
            GetReal = p => p.Temperature, SetReal = (p, v) => p with { Temperature = v } },
        // The seed comes from the spec's "seeds" list, one trial per seed.
        new() { Name = "seed", Kind = ParameterKind.Integer, Flag = "seed", TelemetryTag = "seed",
            Domain = NumericDomain.Int(0, long.MaxValue),
            GetInteger = p => p.Seed, SetInteger = (p, v) => p with { Seed = v } },
        new() { Name = "epochs", Kind = ParameterKind.Integer, Section = "training", Key = "epochs", Flag = "epochs",
            Searchable = true, Domain = NumericDomain.Int(0, 10_000),
            Legend = p => Invariant($"{p.Epochs} epochs"),
            GetInteger = p => p.Epochs, SetInteger = (p, v) => p with { Epochs = checked((int)v) } },
        new() { Name = "batchSize", Kind = ParameterKind.Integer, Section = "training", Key = "batchSize", Flag = "batch-size",
            Domain = NumericDomain.Int(1, 65_536),
            Legend = p => Invariant($"batch {p.BatchSize}"),
            GetInteger = p => p.BatchSize, SetInteger = (p, v) => p with { BatchSize = checked((int)v) } },
        new() { Name = "learningRate", Kind = ParameterKind.Real, Section = "training", Key = "learningRate", Flag = "learning-rate",
            Searchable = true, Domain = NumericDomain.Real(0, false, double.PositiveInfinity, false),
            Legend = p => Invariant($"lr {p.LearningRate:G4}"),
            GetReal = p => p.LearningRate, SetReal = (p, v) => p with { LearningRate = v } },
        new() { Name = "momentum", Kind = ParameterKind.Real, Section = "training", Key = "momentum", Flag = "momentum",
            Domain = NumericDomain.Real(0, true, 1, false),
            Legend = p => Invariant($"momentum {p.Momentum:G4}"),
            GetReal = p => p.Momentum, SetReal = (p, v) => p with { Momentum = v } },
        new() { Name = "interval", Kind = ParameterKind.Integer, Section = "pruning", Key = "interval", Flag = "interval",
            Domain = NumericDomain.Int(1, int.MaxValue),
            Legend = p => Invariant($"interval {p.Interval}"),
            GetInteger = p => p.Interval, SetInteger = (p, v) => p with { Interval = checked((int)v) } },
        new() { Name = "rampFraction", Kind = ParameterKind.Real, Section = "pruning", Key = "rampFraction", Flag = "ramp-fraction",
            Domain = NumericDomain.Real(0, false, 1, true),
            Legend = p => Invariant($"ramp {p.RampFraction:G4}"),
            GetReal = p => p.RampFraction, SetReal = (p, v) => p with { RampFraction = v } },
    ];

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static readonly Dictionary<string, TrialParameter> ByName = All.ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>The parameters a search space may vary, in table order.</summary>
    public static IReadOnlyList<string> Searchable { get; } = All.Where(d => d.Searchable).Select(d => d.Name).ToArray();

    /// <summary>The parameter of this name, or null.</summary>
    public static TrialParameter? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>
    /// Checks every parameter against its table entry (names and domains) and the one rule across parameters: λ is 0
    /// exactly when there is no regularizer (the search space writes it so). The exception names the parameter.
    /// </summary>
    /// <exception cref="InvalidSettingException">A value outside its parameter's domain.</exception>
    public static void Validate(TrialParameters p)
    {
        ArgumentNullException.ThrowIfNull(p);
        bool unregularized = p.Regularizer == Vocabularies.Regularizers.Name(RegularizerKind.None);
        foreach (var parameter in All)
        {
            if (parameter.Kind == ParameterKind.Text)
            {
                if (parameter.TextProblem(parameter.GetText!(p)) is { } problem)
                    throw new InvalidSettingException(parameter.Name, problem);
                continue;
            }
            double value = parameter.Kind == ParameterKind.Real ? parameter.GetReal!(p) : parameter.GetInteger!(p);
            if (parameter.Name == "lambda" && unregularized && value == 0) continue;
            if (!parameter.Domain!.Contains(value))
            {
                string rule = parameter.Domain.Describe();
                if (parameter.Name == "lambda" && value == 0) rule += $" for regularizer {p.Regularizer}";
                throw new InvalidSettingException(parameter.Name,
                    $"{rule}, got {value.ToString("R", CultureInfo.InvariantCulture)}");
            }
        }
    }
}

/// <summary>A trial setting that cannot be used; <see cref="Field"/> names it (a parameter name, or "trainLimit").</summary>
public sealed class InvalidSettingException(string field, string message) : Exception($"{field}: {message}")
{
    public string Field { get; } = field;
}
