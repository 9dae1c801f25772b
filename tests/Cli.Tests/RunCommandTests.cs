using System.Text.Json;
using Xunit;

namespace Sweep.Cli.Tests;

public sealed class RunCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteSpec(string body, string name = "spec.json")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, body);
        return path;
    }

    private const string TinySpec = """
        {
          "name": "tiny",
          "dataset": "mnist10k",
          "model": "mlp",
          "training": { "epochs": 1, "trainLimit": 1000 },
          "regularizer": "l2",
          "search": { "strategy": "grid", "space": { "lambda": [1e-5, 1e-3], "pruneRate": [0.5, 0.9] } },
          "seeds": [0]
        }
        """;

    private static (double, double)[] Objectives(IEnumerable<JsonElement> rows, string y) =>
        rows.Select(r => (r.GetProperty("accuracy").GetDouble(), r.GetProperty(y).GetDouble())).ToArray();

    /// <summary>The non-dominated set by the definition, O(n²), independent of the production code.</summary>
    private static string[] NonDominated(IReadOnlyList<JsonElement> rows, string y)
    {
        var v = Objectives(rows, y);
        return rows.Where((_, i) => !v.Where((_, j) => j != i)
                .Any(o => o.Item1 >= v[i].Item1 && o.Item2 >= v[i].Item2 && (o.Item1 > v[i].Item1 || o.Item2 > v[i].Item2)))
            .Select(r => r.GetProperty("trialId").GetString()!).Order().ToArray();
    }

    [Fact]
    public async Task Run_writes_all_four_files_and_the_front_is_the_non_dominated_set_of_the_trials()
    {
        string spec = WriteSpec(TinySpec);
        string outDir = Path.Combine(_dir, "out");
        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir, "--json"], timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.Stderr);

        foreach (var f in new[] { "spec.json", "trials.jsonl", "front.json", "front.svg" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        Assert.Equal(TinySpec, File.ReadAllText(Path.Combine(outDir, "spec.json")));
        var trials = File.ReadAllLines(Path.Combine(outDir, "trials.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(4, trials.Length);
        Assert.Equal(4, trials.Select(t => t.GetProperty("trialId").GetString()).Distinct().Count());
        Assert.All(trials, t => Assert.Equal("completed", t.GetProperty("status").GetString()));

        var front = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "front.json"))).RootElement;
        Assert.Equal(front.ToString(), JsonDocument.Parse(r.Stdout).RootElement.ToString());   // --json prints front.json
        Assert.Equal(NonDominated(trials, "weightSparsity"),
            front.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("trialId").GetString()!).Order());
        Assert.Equal(NonDominated(trials, "nodeSparsity"), front.GetProperty("nodeFront").GetProperty("points").EnumerateArray()
            .Select(p => p.GetProperty("trialId").GetString()!).Order());
        Assert.Equal(new[] { "accuracy", "weightSparsity" }, front.GetProperty("objectives").EnumerateArray().Select(o => o.GetString()));
        Assert.True(front.GetProperty("hypervolume").GetDouble() > 0);
        Assert.Contains("weight sparsity", File.ReadAllText(Path.Combine(outDir, "front.svg")));

        // Running again into the same folder keeps every completed trial and trains none.
        var again = await SweepProcess.RunAsync(["run", spec, "--out", outDir], timeout: TimeSpan.FromMinutes(2));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("keeping 4 completed trial(s)", again.Stderr);
        var trialsAgain = File.ReadAllLines(Path.Combine(outDir, "trials.jsonl"));
        Assert.Equal(trials.Select(t => t.ToString()).Order(),
            trialsAgain.Select(l => JsonDocument.Parse(l).RootElement.ToString()).Order());
    }

    [Theory]
    [InlineData("{ \"name\": \"x\", ", "spec")]                                                                          // malformed JSON
    [InlineData("""{ "name": "x", "search": { "strategy": "bayes", "space": { "lambda": [1e-4] } } }""", "search.strategy")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "lambda": [1e-4, 0] } } }""", "search.space.lambda[1]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "lambda": [-1e-4] } } }""", "search.space.lambda[0]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "pruneRate": [0.5, 1.0] } } }""", "search.space.pruneRate[1]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "pruneRate": [-0.1] } } }""", "search.space.pruneRate[0]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { } } }""", "search.space")]
    [InlineData("""{ "name": "x", "dataset": { "images": "nope-images.gz", "labels": "nope-labels.gz" }, "search": """
        + """{ "strategy": "grid", "space": { "lambda": [1e-4] } } }""", "dataset.images")]
    [InlineData("""{ "name": "../escape", "search": { "strategy": "grid", "space": { "lambda": [1e-4] } } }""", "name")]
    public async Task Bad_specs_exit_2_with_one_line_naming_the_field(string body, string field)
    {
        string spec = WriteSpec(body);
        string outDir = Path.Combine(_dir, "out-bad");
        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir]);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith($"sweep: {field}: ", lines[0]);
        Assert.False(Directory.Exists(outDir));   // nothing written for a spec that is refused
    }

    [Theory]
    [InlineData("--fuse", "0")]
    [InlineData("--fuse", "257")]
    [InlineData("--fuse", "four")]
    [InlineData("--slots", "0")]
    public async Task Bad_run_flags_exit_2_with_one_line_naming_the_flag(string flag, string value)
    {
        string spec = WriteSpec("""{ "name": "flags", "training": { "epochs": 1, "trainLimit": 100 }, "search": """
            + """{ "strategy": "grid", "space": { "lambda": [1e-4] } } }""");
        string outDir = Path.Combine(_dir, "out-flags");
        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir, flag, value]);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith($"sweep: {flag}: ", lines[0]);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task A_missing_spec_file_exits_2_naming_it()
    {
        string missing = Path.Combine(_dir, "missing.json");
        var r = await SweepProcess.RunAsync(["run", missing]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(missing, r.Stderr);
    }
}
