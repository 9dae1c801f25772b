using System.Globalization;
using System.Text.Json;
using Sweep.Core.Search;

namespace Sweep.Core.Models;

/// <summary>
/// A VGG network's configuration: 3×3 convolutions (padding 1) of the given widths with a 2×2 max-pool wherever
/// <see cref="Layers"/> holds <see cref="Pool"/> ("M" in specs), batch norm after each convolution or not, then fully
/// connected layers of the <see cref="Classifier"/> widths and the output layer. Every width is scaled by
/// <see cref="WidthMultiplier"/> (rounded, at least 1). <c>"vgg11"</c> and <c>"vgg16"</c> are the CIFAR variants
/// (batch norm, classifier [512], multiplier 1); any other configuration is written
/// <c>vgg(64,M,128,M|512|bn|0.25)</c> in trial parameters.
/// </summary>
public sealed record VggConfig(IReadOnlyList<int> Layers, IReadOnlyList<int> Classifier, bool BatchNorm, double WidthMultiplier)
{
    /// <summary>The marker of a max-pool in <see cref="Layers"/>.</summary>
    public const int Pool = 0;

    public static IReadOnlyDictionary<string, VggConfig> Presets { get; } = new Dictionary<string, VggConfig>(StringComparer.Ordinal)
    {
        ["vgg11"] = new([64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool], [512], true, 1),
        ["vgg16"] = new([64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512, Pool], [512], true, 1),
    };

    /// <summary>How many times the images are halved.</summary>
    public int Pools => Layers.Count(l => l == Pool);

    /// <summary>The scaled width of every hidden layer: the convolutions', then the classifier's.</summary>
    public IReadOnlyList<int> Widths =>
        [.. Layers.Where(l => l != Pool).Select(Scale), .. Classifier.Select(Scale)];

    /// <summary>A width times the multiplier, rounded half away from zero, at least 1.</summary>
    public int Scale(int width) => Math.Max(1, (int)Math.Round(width * WidthMultiplier, MidpointRounding.AwayFromZero));

    /// <summary>The text trial parameters hold: a preset's name, or <c>vgg(layers|classifier|bn or nobn|multiplier)</c>.</summary>
    public string Text => Presets.FirstOrDefault(p => p.Value == this).Key
        ?? string.Create(CultureInfo.InvariantCulture,
            $"vgg({string.Join(',', Layers.Select(l => l == Pool ? "M" : l.ToString(CultureInfo.InvariantCulture)))}"
            + $"|{string.Join(',', Classifier)}|{(BatchNorm ? "bn" : "nobn")}|{WidthMultiplier:R})");

    public bool Equals(VggConfig? other) => other is not null && Layers.SequenceEqual(other.Layers)
        && Classifier.SequenceEqual(other.Classifier) && BatchNorm == other.BatchNorm && WidthMultiplier == other.WidthMultiplier;

    public override int GetHashCode() => HashCode.Combine(Layers.Count, Classifier.Count, BatchNorm, WidthMultiplier);

    /// <summary>Reads the text form; null with the reason when it is not one.</summary>
    public static VggConfig? TryParse(string text, out string? problem)
    {
        problem = null;
        if (Presets.TryGetValue(text, out var preset)) return preset;
        string usage = $"'{text}' is not a VGG (vgg11, vgg16, or vgg(64,M,128,M|512|bn|0.25))";
        if (!text.StartsWith("vgg(", StringComparison.Ordinal) || !text.EndsWith(')')) { problem = usage; return null; }
        var parts = text[4..^1].Split('|');
        if (parts.Length != 4 || parts[2] is not ("bn" or "nobn")
            || !double.TryParse(parts[3], NumberStyles.Float, CultureInfo.InvariantCulture, out double multiplier))
        {
            problem = usage;
            return null;
        }
        var layers = new List<int>();
        foreach (string l in parts[0].Split(','))
        {
            if (l == "M") layers.Add(Pool);
            else if (int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out int w) && w >= 1) layers.Add(w);
            else { problem = usage; return null; }
        }
        var classifier = new List<int>();
        foreach (string c in parts[1].Length == 0 ? [] : parts[1].Split(','))
        {
            if (!int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out int w)) { problem = usage; return null; }
            classifier.Add(w);
        }
        var config = new VggConfig(layers, classifier, parts[2] == "bn", multiplier);
        problem = config.Problem();
        return problem is null ? config : null;
    }

    /// <summary>
    /// The configuration a spec object gives: <c>{"family": "vgg", "layers": [64, "M", …], "classifier": [512],
    /// "batchNorm": true, "widthMultiplier": 0.25}</c>, or a preset's family ("vgg16") with any of those keys changed.
    /// </summary>
    /// <exception cref="SpecException">A bad key or value; the message names it.</exception>
    public static VggConfig Read(JsonElement e, string field)
    {
        string family = e.GetProperty("family").GetString()!;
        VggConfig? start = family == "vgg" ? null : Presets.GetValueOrDefault(family)
            ?? throw new SpecException($"{field}.family", $"unknown model '{family}' (known: {string.Join(", ", ModelSpec.Names)}, vgg)");
        IReadOnlyList<int>? layers = start?.Layers, classifier = start?.Classifier ?? [512];
        bool batchNorm = start?.BatchNorm ?? true;
        double multiplier = 1;
        foreach (var member in e.EnumerateObject())
        {
            string at = $"{field}.{member.Name}";
            switch (member.Name)
            {
                case "family":
                    break;
                case "layers":
                    layers = ReadWidths(member.Value, at, pools: true);
                    break;
                case "classifier":
                    classifier = ReadWidths(member.Value, at, pools: false);
                    break;
                case "batchNorm" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    batchNorm = member.Value.GetBoolean();
                    break;
                case "widthMultiplier" when member.Value.ValueKind == JsonValueKind.Number:
                    multiplier = member.Value.GetDouble();
                    break;
                case "batchNorm" or "widthMultiplier":
                    throw new SpecException(at, member.Name == "batchNorm" ? "expected true or false" : "expected a number");
                default:
                    throw new SpecException(at, "unknown key (known: family, layers, classifier, batchNorm, widthMultiplier)");
            }
        }
        if (layers is null) throw new SpecException($"{field}.layers", "required for family vgg (or use vgg11, vgg16)");
        var config = new VggConfig(layers, classifier, batchNorm, multiplier);
        if (config.Problem() is { } problem)
            throw new SpecException(
                problem.Contains("multiplier", StringComparison.Ordinal) ? $"{field}.widthMultiplier" : $"{field}.layers", problem);
        return config;
    }

    private static int[] ReadWidths(JsonElement e, string field, bool pools)
    {
        if (e.ValueKind != JsonValueKind.Array) throw new SpecException(field, "expected a list");
        return e.EnumerateArray().Select((item, i) =>
            pools && item.ValueKind == JsonValueKind.String && item.GetString() == "M" ? Pool
            : item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int w) && w >= 1 ? w
            : throw new SpecException($"{field}[{i}]", pools ? "expected a width ≥ 1 or \"M\"" : "expected a width ≥ 1")).ToArray();
    }

    private string? Problem()
    {
        if (!Layers.Any(l => l != Pool)) return "give at least one convolution width";
        for (int i = 0; i < Layers.Count; i++)
            if (Layers[i] == Pool && (i == 0 || Layers[i - 1] == Pool)) return "every \"M\" (max-pool) must follow a convolution";
        if (Layers.Any(l => l is < 0 or > ModelSpec.MaxWidth) || Classifier.Any(c => c is < 1 or > ModelSpec.MaxWidth))
            return $"every width must be in [1, {ModelSpec.MaxWidth}]";
        if (Layers.Count + Classifier.Count > 64) return "at most 64 layers";
        if (!(WidthMultiplier > 0 && WidthMultiplier <= 16)) return $"the width multiplier must be in (0, 16], got {WidthMultiplier}";
        return null;
    }
}
