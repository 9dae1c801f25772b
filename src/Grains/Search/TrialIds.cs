using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sweep.Grains.Models;

namespace Sweep.Grains.Search;

/// <summary>
/// Stable trial ids: the same parameters give the same id in every process, run and machine, so a resumed
/// sweep recognizes the trials it already completed.
/// </summary>
public static class TrialIds
{
    /// <summary>
    /// "t" followed by the first 12 lower-case hex digits of SHA-256 over <see cref="Canonical"/> (UTF-8).
    /// </summary>
    public static string For(TrialParameters p)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(p)), hash);
        return "t" + Convert.ToHexStringLower(hash[..6]);
    }

    /// <summary>
    /// The text the id hashes: every field of <see cref="TrialParameters"/> in declaration order as
    /// <c>name=value</c>, joined by ';'. Strings are double-quoted with '\' and '"' backslash-escaped; doubles use
    /// the invariant "R" (round-trip) format with -0 written as 0; integers are invariant decimal. Example:
    /// <c>model="mlp";regularizer="l2";lambda=0.0001;pruneRate=0.9;pruneMethod="stochastic";temperature=0.5;seed=0;epochs=5;batchSize=64;learningRate=0.05;momentum=0.9;interval=50;rampFraction=0.7</c>.
    /// </summary>
    public static string Canonical(TrialParameters p)
    {
        var text = new StringBuilder(256);
        Append(text, "model", Quote(p.Model));
        Append(text, "regularizer", Quote(p.Regularizer));
        Append(text, "lambda", Real(p.Lambda));
        Append(text, "pruneRate", Real(p.PruneRate));
        Append(text, "pruneMethod", Quote(p.PruneMethod));
        Append(text, "temperature", Real(p.Temperature));
        Append(text, "seed", p.Seed.ToString(CultureInfo.InvariantCulture));
        Append(text, "epochs", p.Epochs.ToString(CultureInfo.InvariantCulture));
        Append(text, "batchSize", p.BatchSize.ToString(CultureInfo.InvariantCulture));
        Append(text, "learningRate", Real(p.LearningRate));
        Append(text, "momentum", Real(p.Momentum));
        Append(text, "interval", p.Interval.ToString(CultureInfo.InvariantCulture));
        Append(text, "rampFraction", Real(p.RampFraction));
        return text.ToString();
    }

    private static void Append(StringBuilder text, string name, string value)
    {
        if (text.Length > 0) text.Append(';');
        text.Append(name).Append('=').Append(value);
    }

    // Records compare 0.0 and -0.0 as equal, so their ids must be equal too.
    private static string Real(double value) => (value == 0 ? 0d : value).ToString("R", CultureInfo.InvariantCulture);

    // Quoting keeps the text unambiguous whatever a (possibly invalid) name contains.
    private static string Quote(string? value) =>
        value is null ? "null" : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
