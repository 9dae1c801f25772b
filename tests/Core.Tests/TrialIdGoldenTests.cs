using System.Security.Cryptography;
using System.Text;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>
/// Trial ids of every example spec, pinned: run folders of earlier releases resume only while the ids stay the same.
/// golden/trial-ids.txt was written by the release before the parameter table (one line per spec: name, trial count,
/// first id, SHA-256 of all ids joined by '\n'); specs added later (mlp-widths.json) are pinned as they were added.
/// </summary>
public sealed class TrialIdGoldenTests
{
    public static TheoryData<string> Specs()
    {
        var data = new TheoryData<string>();
        foreach (string line in File.ReadAllLines(GoldenPath))
            if (line.Length > 0) data.Add(line.Split(' ')[0]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Example_specs_keep_the_trial_ids_of_the_previous_release(string spec)
    {
        string expected = File.ReadAllLines(GoldenPath).Single(l => l.StartsWith(spec + " ", StringComparison.Ordinal));
        Assert.Equal(expected, Line(spec));
    }

    [Fact]
    public void Every_example_spec_is_pinned()
    {
        var pinned = File.ReadAllLines(GoldenPath).Where(l => l.Length > 0).Select(l => l.Split(' ')[0]).Order(StringComparer.Ordinal);
        Assert.Equal(AllExamples(), pinned);
    }

    internal static string Line(string spec)
    {
        var plans = SearchSpace.Expand(Examples.Load(spec));
        string all = string.Join('\n', plans.Select(p => p.TrialId));
        return $"{spec} {plans.Count} {plans[0].TrialId} {Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(all)))}";
    }

    internal static IReadOnlyList<string> AllExamples() =>
        Directory.GetFiles(Path.Combine(Examples.RepositoryRoot, "examples"), "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(Examples.RepositoryRoot, "examples"), f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal).ToArray();

    private static string GoldenPath => Path.Combine(Examples.RepositoryRoot, "tests", "golden", "trial-ids.txt");
}
