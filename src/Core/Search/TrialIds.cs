using System.Security.Cryptography;
using System.Text;
using Sweep.Core.Models;

namespace Sweep.Core.Search;

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
    /// The text the id hashes: every parameter of <see cref="TrialParameterTable"/> in table order as
    /// <c>name=value</c> (<see cref="TrialParameter.Canonical"/>), joined by ';'. Example:
    /// <c>model="mlp";regularizer="l2";lambda=0.0001;pruneRate=0.9;pruneMethod="stochastic";temperature=0.5;seed=0;epochs=5;
    /// batchSize=64;learningRate=0.05;momentum=0.9;interval=50;rampFraction=0.7</c>.
    /// </summary>
    public static string Canonical(TrialParameters p)
    {
        var text = new StringBuilder(256);
        foreach (var parameter in TrialParameterTable.All)
        {
            if (text.Length > 0) text.Append(';');
            text.Append(parameter.Name).Append('=').Append(parameter.Canonical(p));
        }
        return text.ToString();
    }
}
