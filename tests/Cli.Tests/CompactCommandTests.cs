using System.Text.Json;
using Xunit;

namespace Sweep.Cli.Tests;

public sealed class CompactCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-compact-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Spec = """
        {
          "name": "models",
          "model": "mlp",
          "training": { "epochs": 2, "trainLimit": 2000 },
          "regularizer": "l1",
          "lambda": 1e-4,
          "saveModels": true,
          "search": { "strategy": "grid", "space": { "pruneRate": [0.5, 0.9] } }
        }
        """;

    private static JsonElement[] Trials(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, "trials.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();

    [Fact]
    public async Task Run_saves_every_trials_model_and_compact_makes_it_smaller_with_the_same_outputs()
    {
        string spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(spec, Spec);
        string runDir = Path.Combine(_dir, "run");
        var run = await SweepProcess.RunAsync(["run", spec, "--out", runDir], timeout: TimeSpan.FromMinutes(4));
        Assert.True(run.ExitCode == 0, run.Stderr);

        var trials = Trials(runDir);
        Assert.Equal(2, trials.Length);
        foreach (var t in trials)
        {
            string id = t.GetProperty("trialId").GetString()!;
            Assert.Equal(Path.Combine(runDir, "models", id + ".pt"), t.GetProperty("modelPath").GetString());
            Assert.True(File.Exists(Path.Combine(runDir, "models", id + ".pt")));
            Assert.True(File.Exists(Path.Combine(runDir, "models", id + ".json")));
            Assert.Equal(JsonValueKind.Null, t.GetProperty("modelError").ValueKind);
        }

        // The trial with the most dead nodes, by path, as JSON.
        var trial = trials.MaxBy(t => t.GetProperty("nodeSparsity").GetDouble());
        Assert.True(trial.GetProperty("nodeSparsity").GetDouble() > 0, "no trial has a dead node: nothing to compact");
        string trialId = trial.GetProperty("trialId").GetString()!;
        string model = trial.GetProperty("modelPath").GetString()!;
        var compact = await SweepProcess.RunAsync(["compact", model, "--json", "--passes", "2"]);
        Assert.True(compact.ExitCode == 0, compact.Stderr);
        var report = JsonDocument.Parse(compact.Stdout).RootElement;

        string output = Path.Combine(runDir, "models", trialId + ".compact.pt");
        Assert.Equal(output, report.GetProperty("output").GetString());
        Assert.True(File.Exists(output) && File.Exists(Path.Combine(runDir, "models", trialId + ".compact.json")));
        var layers = trial.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(layers.Take(2).Select(l => l.GetProperty("nodes").GetInt64() - l.GetProperty("deadNodes").GetInt64()),
            report.GetProperty("widthsAfter").EnumerateArray().Select(w => w.GetInt64()));
        Assert.Equal(trial.GetProperty("accuracy").GetDouble(), report.GetProperty("accuracyBefore").GetDouble());
        Assert.Equal(report.GetProperty("accuracyBefore").GetDouble(), report.GetProperty("accuracyAfter").GetDouble());
        Assert.InRange(report.GetProperty("maxLogitDifference").GetDouble(), 0, 1e-4);
        Assert.Equal(2_000, report.GetProperty("testImages").GetInt32());
        long nonzeroBefore = layers.Sum(l => l.GetProperty("weights").GetInt64() - l.GetProperty("zeroWeights").GetInt64());
        Assert.Equal(nonzeroBefore, report.GetProperty("parametersBefore").GetProperty("nonzeroWeights").GetInt64());
        Assert.True(report.GetProperty("parametersAfter").GetProperty("parameters").GetInt64()
            < report.GetProperty("parametersBefore").GetProperty("parameters").GetInt64());
        Assert.True(report.GetProperty("latencyAfter").GetProperty("batch1Milliseconds").GetDouble() > 0);

        // By run folder and trial id, as the table.
        string other = Path.Combine(_dir, "small.pt");
        var table = await SweepProcess.RunAsync(["compact", runDir, "--trial", trialId, "--out", other, "--passes", "1"]);
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains($"mlp compacted: {model} → {other}", table.Stdout);   // absolute: the test runs outside _dir
        foreach (string row in new[] { "fc1", "fc2", "fc3", "parameters (weights + biases)", "nonzero weights",
                     "accuracy (2000 test images)", "latency, batch 1 (median image)", "latency, batch 2000 (median pass)",
                     "max |logit difference|" })
            Assert.Contains(row, table.Stdout);
        Assert.True(File.Exists(other));

        // Running again keeps the trials whose models are there and trains (and saves) the one whose model is gone.
        File.Delete(model);
        var again = await SweepProcess.RunAsync(["run", spec, "--out", runDir], timeout: TimeSpan.FromMinutes(4));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("keeping 1 completed trial(s), running the other 1", again.Stderr);
        Assert.True(File.Exists(model));
    }

    [Fact]
    public async Task Bad_input_exits_2_with_one_line_naming_the_file_or_flag()
    {
        string missing = Path.Combine(_dir, "missing.pt");
        string notModel = Path.Combine(_dir, "notes.pt");
        File.WriteAllText(notModel, "not a model");
        string runDir = Path.Combine(_dir, "run");
        Directory.CreateDirectory(runDir);
        File.WriteAllText(Path.Combine(runDir, "trials.jsonl"), "");

        foreach (var (args, start) in new (string[], string)[]
                 {
                     (["compact", missing], $"sweep: {missing}: file not found"),
                     (["compact", notModel], $"sweep: {notModel}: not a saved Sweep model"),
                     (["compact", runDir], $"sweep: {runDir}: is a folder"),
                     (["compact", runDir, "--trial", "tnope"], "sweep: --trial: tnope: no such trial in "),
                     (["compact", notModel, "--trial", "t1"], "sweep: --trial: only with a run folder"),
                     (["compact", missing, "--passes", "0"], "sweep: --passes: must be ≥ 1"),
                 })
        {
            var r = await SweepProcess.RunAsync(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}, {r.Stderr}");
            var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith(start, line);
            Assert.Equal("", r.Stdout);
        }
    }
}
