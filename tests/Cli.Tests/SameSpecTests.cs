using System.Text.Json;
using Xunit;

namespace Sweep.Cli.Tests;

/// <summary>Same spec, same --slots/--threads: the same numbers in trials.jsonl, run after run, for every family.</summary>
public sealed class SameSpecTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-same-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Each trial's numbers (accuracy, sparsities, layers, every epoch's loss and measures), by trial id.</summary>
    private static SortedDictionary<string, string> Numbers(string trialsPath)
    {
        var byId = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(trialsPath).Where(l => l.Length > 0))
        {
            var r = JsonDocument.Parse(line).RootElement;
            var epochs = r.GetProperty("epochs").EnumerateArray().Select(e =>
                $"{e.GetProperty("loss").GetDouble():R}/{e.GetProperty("accuracy").GetDouble():R}/"
                + $"{e.GetProperty("weightSparsity").GetDouble():R}/{e.GetProperty("nodeSparsity").GetDouble():R}");
            byId[r.GetProperty("trialId").GetString()!] =
                $"{r.GetProperty("status").GetString()} {r.GetProperty("accuracy")} {r.GetProperty("weightSparsity")} "
                + $"{r.GetProperty("nodeSparsity")} {r.GetProperty("layers")} {string.Join(' ', epochs)}";
        }
        return byId;
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("2", "1")]
    public async Task Two_runs_of_one_spec_give_the_same_numbers_for_mlp_lenet5_and_vgg(string slots, string threads)
    {
        // mlp trials fuse (rate 0.98 trains sparse), lenet5 and the small VGG train one per slot beside them.
        string spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(spec, """
            { "name": "same", "training": { "epochs": 2, "trainLimit": 600 }, "regularizer": "l1",
              "pruning": { "interval": 5 },
              "search": { "strategy": "grid", "space": {
                "model": ["mlp", "lenet5", { "family": "vgg", "layers": [4, "M", 8, "M"], "classifier": [16], "batchNorm": true }],
                "pruneRate": [0.5, 0.98] } } }
            """);
        var runs = new List<SortedDictionary<string, string>>();
        foreach (string name in new[] { "a", "b" })
        {
            string outDir = Path.Combine(_dir, $"{name}-{slots}");
            var run = await SweepProcess.RunAsync(["run", spec, "--out", outDir, "--slots", slots, "--threads", threads]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            runs.Add(Numbers(Path.Combine(outDir, "trials.jsonl")));
        }
        Assert.Equal(6, runs[0].Count);
        Assert.All(runs[0].Values, v => Assert.StartsWith("completed", v));
        Assert.Equal(runs[0], runs[1]);
    }
}
