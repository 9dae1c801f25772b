using System.Globalization;
using System.Text.Json;
using Sweep.Core.Search;

namespace Sweep.Core.Models;

/// <summary>
/// A trial's network: a model family and, for families whose widths a spec may choose (<c>mlp</c>), the width of each
/// hidden layer. In trial parameters (and so in trial ids, results and flags) it is one text: the family's name for
/// its default architecture (<c>"mlp"</c> is LeNet-300-100, <c>"lenet5"</c>), or the family with its widths,
/// <c>"mlp[500,150]"</c>. A spec writes either that text or an object, <c>{"family": "mlp", "hidden": [500, 150]}</c>;
/// an object with the default widths is the default model (the same trial, the same id).
/// </summary>
public sealed record ModelSpec
{
    /// <summary>The most hidden layers, and the widest layer, a spec may ask for.</summary>
    public const int MaxDepth = 16, MaxWidth = 65_536;

    // The families and their default hidden widths; null: the family's architecture is fixed.
    private static readonly Dictionary<string, int[]?> Defaults = new(StringComparer.Ordinal)
    {
        ["mlp"] = [300, 100],
        ["lenet5"] = null,
    };

    private ModelSpec(string family, IReadOnlyList<int> hidden, VggConfig? vgg = null)
    {
        Family = family;
        Hidden = hidden;
        Vgg = vgg;
    }

    /// <summary>The model families' names.</summary>
    public static IReadOnlyList<string> Families { get; } = [.. Defaults.Keys, "vgg"];

    /// <summary>The names a spec may give a model by (the families with a default architecture, and VGG's presets).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Defaults.Keys, .. VggConfig.Presets.Keys];

    /// <summary>A VGG's configuration; null for other families.</summary>
    public VggConfig? Vgg { get; }

    /// <summary>The family's name ("mlp", "lenet5").</summary>
    public string Family { get; }

    /// <summary>The hidden widths the spec chose; empty for the family's default architecture.</summary>
    public IReadOnlyList<int> Hidden { get; }

    /// <summary>The text trial parameters hold: "mlp", "lenet5", "mlp[500,150]".</summary>
    public string Text => Vgg is { } vgg
        ? vgg.Text
        : Hidden.Count == 0
            ? Family
            : $"{Family}[{string.Join(',', Hidden.Select(w => w.ToString(CultureInfo.InvariantCulture)))}]";

    public override string ToString() => Text;

    /// <summary>The hidden widths of a family whose widths a spec may choose (the default ones when none were chosen), else null.</summary>
    public IReadOnlyList<int>? Widths => Vgg is { } vgg ? vgg.Widths : Hidden.Count > 0 ? Hidden : Defaults[Family];

    /// <summary>A model by family and hidden widths (none: the family's default).</summary>
    /// <exception cref="ArgumentException">An unknown family, widths for a fixed family, or a bad width.</exception>
    public static ModelSpec Of(string family, IReadOnlyList<int>? hidden = null) =>
        Create(family, hidden ?? []) is { Spec: { } spec } ? spec : throw new ArgumentException(Create(family, hidden ?? []).Problem);

    /// <summary>Reads the text form; null with the reason when it is not a model.</summary>
    public static ModelSpec? TryParse(string? text, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(text)) { problem = "empty model name"; return null; }
        if (text.StartsWith("vgg", StringComparison.Ordinal))
        {
            var config = VggConfig.TryParse(text, out problem);
            return config is null ? null : new ModelSpec("vgg", [], config);
        }
        int open = text.IndexOf('[');
        if (open < 0)
        {
            var (spec, p) = Create(text, []);
            problem = p;
            return spec;
        }
        if (!text.EndsWith(']')) { problem = $"'{text}' is not a model (e.g. mlp or mlp[500,150])"; return null; }
        var widths = new List<int>();
        foreach (string part in text[(open + 1)..^1].Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int w))
            {
                problem = $"'{text}' is not a model: '{part}' is not a width";
                return null;
            }
            widths.Add(w);
        }
        var (parsed, why) = Create(text[..open], widths);
        problem = why;
        return parsed;
    }

    /// <summary>Reads the text form.</summary>
    /// <exception cref="ArgumentException">It is not a model; the message says why.</exception>
    public static ModelSpec Parse(string text) => TryParse(text, out var problem) ?? throw new ArgumentException(problem);

    /// <summary>The model a spec gives at <paramref name="field"/>: a name, or an object {"family", "hidden"}.</summary>
    /// <exception cref="SpecException">Neither, or not a model this engine has; the message names the field.</exception>
    public static ModelSpec Read(JsonElement e, string field)
    {
        if (e.ValueKind == JsonValueKind.String)
        {
            string text = e.GetString()!;
            if (TryParse(text, out var problem) is { } named) return named;
            string name = text.Contains('[') ? text[..text.IndexOf('[')] : text;
            throw new SpecException(field, Defaults.ContainsKey(name) || text.StartsWith("vgg", StringComparison.Ordinal)
                ? problem!
                : $"unknown model {SpecParser.Shorten(e.GetRawText())} (known: {string.Join(", ", Names)})");
        }
        if (e.ValueKind != JsonValueKind.Object)
            throw new SpecException(field, $"expected a model name ({string.Join(", ", Families)}) or an object "
                + $"{{\"family\": \"mlp\", \"hidden\": [500, 150]}}, got {e.ValueKind.ToString().ToLowerInvariant()}");
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("family", out var familyName)
            && familyName.ValueKind == JsonValueKind.String && familyName.GetString()!.StartsWith("vgg", StringComparison.Ordinal))
            return new ModelSpec("vgg", [], VggConfig.Read(e, field));
        string? family = null;
        var hidden = new List<int>();
        foreach (var member in e.EnumerateObject())
        {
            switch (member.Name)
            {
                case "family" when member.Value.ValueKind == JsonValueKind.String:
                    family = member.Value.GetString();
                    break;
                case "family":
                    throw new SpecException($"{field}.family", "expected a family name");
                case "hidden" when hidden.Count > 0:
                    throw new SpecException($"{field}.hidden", "given twice");
                case "hidden" when member.Value.ValueKind == JsonValueKind.Array:
                    foreach (var item in member.Value.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int w))
                            throw new SpecException($"{field}.hidden[{hidden.Count}]", $"expected a whole number, got {item.GetRawText()}");
                        hidden.Add(w);
                    }
                    if (hidden.Count == 0) throw new SpecException($"{field}.hidden", "give at least one hidden width");
                    break;
                case "hidden":
                    throw new SpecException($"{field}.hidden", "expected a list of hidden widths, e.g. [500, 150]");
                default:
                    throw new SpecException($"{field}.{member.Name}", "unknown key (known: family, hidden)");
            }
        }
        if (family is null) throw new SpecException($"{field}.family", "required");
        var (spec, why) = Create(family, hidden);
        if (spec is not null) return spec;
        throw new SpecException(why!.StartsWith("unknown", StringComparison.Ordinal) ? $"{field}.family" : $"{field}.hidden", why);
    }

    private static (ModelSpec? Spec, string? Problem) Create(string family, IReadOnlyList<int> hidden)
    {
        if (!Defaults.TryGetValue(family, out var defaults))
            return (null, $"unknown model '{family}' (known: {string.Join(", ", Names)})");
        if (hidden.Count == 0) return (new ModelSpec(family, []), null);
        if (defaults is null) return (null, $"model {family} has a fixed architecture: it takes no hidden widths");
        if (hidden.Count > MaxDepth) return (null, $"at most {MaxDepth} hidden layers, got {hidden.Count}");
        foreach (int w in hidden)
            if (w is < 1 or > MaxWidth) return (null, $"every hidden width must be in [1, {MaxWidth}], got {w}");
        // The default widths written out are the default model: one trial, one id.
        return hidden.SequenceEqual(defaults) ? (new ModelSpec(family, []), null) : (new ModelSpec(family, hidden.ToArray()), null);
    }

    /// <summary>
    /// How silos name what they train fused: "family/depth" (the number of hidden layers; 0 for fixed architectures).
    /// </summary>
    public static string FusingKey(ModelSpec model) => $"{model.Family}/{model.Widths?.Count ?? 0}";

    /// <summary>Why this model cannot take samples of this shape ([channels, height, width]), or null when it can.</summary>
    public string? InputProblem(IReadOnlyList<int> input)
    {
        string shape = string.Join('×', input);
        if (Family == "lenet5" && !input.SequenceEqual([1, 28, 28])) return $"lenet5 takes 1×28×28 images, the dataset's are {shape}";
        if (Vgg is { } vgg && (input[1] >> vgg.Pools < 1 || input[2] >> vgg.Pools < 1))
            return $"{Text} halves its images {vgg.Pools} times: they must be at least {1 << vgg.Pools} pixels a side, "
                + $"the dataset's are {shape}";
        return null;
    }

    public bool Equals(ModelSpec? other) =>
        other is not null && Family == other.Family && Hidden.SequenceEqual(other.Hidden) && Equals(Vgg, other.Vgg);

    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);
}
