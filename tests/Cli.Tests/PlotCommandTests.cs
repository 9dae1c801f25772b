using System.Text.Json;
using System.Xml.Linq;
using Xunit;

namespace Sweep.Cli.Tests;

/// <summary>A real run folder, made once for the plot tests by a tiny real `sweep run` (16 trials of 2 epochs).</summary>
public sealed class TinyRunFolder : IAsyncLifetime
{
    public const string Spec = """
        {
          "name": "plot-tiny",
          "dataset": "mnist10k",
          "model": "mlp",
          "training": { "epochs": 2, "trainLimit": 1000 },
          "pruning": { "interval": 5 },
          "search": { "strategy": "grid", "space": { "regularizer": ["l1", "l2"], "lambda": [1e-4, 1e-3], "pruneRate": [0.5, 0.9] } },
          "seeds": [0, 1]
        }
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("sweep-plot-").FullName;

    public string Dir => Path.Combine(_root, "run");

    /// <summary>The lines of trials.jsonl, parsed on their own (not through the code under test).</summary>
    public IReadOnlyList<JsonElement> Trials { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        string spec = Path.Combine(_root, "spec.json");
        await File.WriteAllTextAsync(spec, Spec, TestContext.Current.CancellationToken);
        var r = await SweepProcess.RunAsync(["run", spec, "--out", Dir], timeout: TimeSpan.FromMinutes(5));
        if (r.ExitCode != 0) throw new InvalidOperationException($"sweep run failed ({r.ExitCode}): {r.Stderr}");
        Trials = (await File.ReadAllLinesAsync(Path.Combine(Dir, "trials.jsonl"), TestContext.Current.CancellationToken))
            .Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return ValueTask.CompletedTask;
    }
}

public sealed class PlotCommandTests(TinyRunFolder run) : IClassFixture<TinyRunFolder>
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static string Param(JsonElement trial, string name) => trial.GetProperty("params").GetProperty(name).ToString();

    private static string Id(JsonElement trial) => trial.GetProperty("trialId").GetString()!;

    private static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) ? a.EnumerateArray() : [];

    private static double[] Numbers(JsonElement e, string name) => Array(e, name).Select(v => v.GetDouble()).ToArray();

    private static string[] Texts(JsonElement e, string name) => Array(e, name).Select(v => v.GetString()!).ToArray();

    private static async Task PlotAsync(params string[] args)
    {
        var r = await SweepProcess.RunAsync(["plot", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("wrote ", r.Stdout);
    }

    /// <summary>The SVG's series groups, panel by panel, next to the data's series: names in order, one path per line.</summary>
    private static void AssertSvgMatchesData(string svgPath, JsonElement data)
    {
        var doc = XDocument.Parse(File.ReadAllText(svgPath));
        var panels = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "panel").ToArray();
        var dataPanels = Array(data, "panels").ToArray();
        Assert.Equal(dataPanels.Length, panels.Length);
        for (int i = 0; i < panels.Length; i++)
        {
            var series = Array(dataPanels[i], "series").ToArray();
            var groups = panels[i].Elements(Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToArray();
            Assert.Equal(series.Select(s => s.GetProperty("name").GetString()), groups.Select(g => (string?)g.Attribute("data-name")));
            for (int j = 0; j < series.Length; j++)
            {
                bool points = series[j].GetProperty("style").GetString() == "points";
                Assert.Equal(points ? 0 : 1, groups[j].Elements(Svg + "path").Count());
            }
        }
    }

    private static double Mean(IEnumerable<double> values) => values.Average();

    /// <summary>2-D hypervolume of the points against (0, 0), both maximized, by the definition (independent code).</summary>
    private static double Hypervolume(IReadOnlyList<(double A, double B)> points)
    {
        var front = points.Where(p => p.A > 0 && p.B > 0 && !points.Any(o => o.A >= p.A && o.B >= p.B && (o.A > p.A || o.B > p.B)))
            .Distinct().ToArray();
        // Bands of B from below: each is as wide as the largest A among the points at least that high.
        double area = 0, lastB = 0;
        foreach (var p in front.OrderBy(p => p.B))
        {
            area += front.Where(q => q.B >= p.B).Max(q => q.A) * (p.B - lastB);
            lastB = p.B;
        }
        return area;
    }

    [Fact]
    public async Task Search_plots_each_sweeps_hypervolume_against_the_trial_epochs_it_trained()
    {
        // A second, real sweep with early stopping: its stopped trials count their epochs but add nothing to the front.
        string esSpec = Path.Combine(run.Dir, "..", "es-spec.json"), esDir = Path.Combine(run.Dir, "..", "es");
        File.WriteAllText(esSpec, """
            { "name": "plot-es", "model": "mlp", "training": { "epochs": 3, "trainLimit": 1000 }, "regularizer": "l1",
              "earlyStopping": { "method": "pareto-asha", "rungs": [1], "keep": 0.5 },
              "search": { "strategy": "grid", "space": { "lambda": [1e-5, 0.1], "pruneRate": [0.3, 0.9] } } }
            """);
        // One trial at a time, in plan order (one slot, no fusion): which trials Pareto-ASHA stops depends on the order they
        // reach the rung. On two slots the λ = 0.1 trials reached it first in 2 of 6 runs, alone or beside each other,
        // and none was stopped. In plan order they come after the λ = 1e-5 trials have completed, whose points at the
        // rung dominate theirs on both fronts: both are stopped, every time.
        var r = await SweepProcess.RunAsync(["run", esSpec, "--out", esDir, "--slots", "1", "--fuse", "1"],
            timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var statuses = File.ReadAllLines(Path.Combine(esDir, "trials.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(t => (t.GetProperty("params").GetProperty("lambda").GetDouble(), t.GetProperty("status").GetString())).ToArray();
        Assert.Equal([(1e-5, "completed"), (1e-5, "completed"), (0.1, "stopped"), (0.1, "stopped")], statuses);
        string out_ = Path.Combine(run.Dir, "..", "search.svg");
        await PlotAsync(run.Dir, esDir, "--kind", "search", "--out", out_);
        var data = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Dir, "..", "search.json"))).RootElement;
        Assert.Equal("search", data.GetProperty("kind").GetString());
        var panels = Array(data, "panels").ToArray();
        Assert.Equal(2, panels.Length);
        var names = Array(panels[0], "series").Select(s => s.GetProperty("name").GetString()).ToArray();
        Assert.Equal(["plot-tiny: grid", "plot-es: grid + pareto-asha"], names);

        foreach (var (dir, k) in new[] { (run.Dir, 0), (esDir, 1) })
        {
            var rows = File.ReadAllLines(Path.Combine(dir, "trials.jsonl")).Where(l => l.Length > 0)
                .Select(l => JsonDocument.Parse(l).RootElement).ToArray();
            double spent = 0;
            var x = new List<double>();
            var done = new List<JsonElement>();
            var y = new List<double>();
            var yNode = new List<double>();
            foreach (var row in rows)
            {
                spent += row.GetProperty("epochs").GetArrayLength();
                if (row.GetProperty("status").GetString() == "completed") done.Add(row);
                x.Add(spent);
                double Of(JsonElement d, string name) => d.GetProperty(name).GetDouble();
                y.Add(Hypervolume([.. done.Select(d => (Of(d, "accuracy"), Of(d, "weightSparsity")))]));
                yNode.Add(Hypervolume([.. done.Select(d => (Of(d, "accuracy"), Of(d, "nodeSparsity")))]));
            }
            var main = Array(panels[0], "series").ElementAt(k);
            var node = Array(panels[1], "series").ElementAt(k);
            Assert.Equal(x, Numbers(main, "x"));
            Assert.Equal(y.Select(v => Math.Round(v, 9)), Numbers(main, "y").Select(v => Math.Round(v, 9)));
            Assert.Equal(yNode.Select(v => Math.Round(v, 9)), Numbers(node, "y").Select(v => Math.Round(v, 9)));
        }
        // The early-stopped sweep trained fewer epochs than its 4 trials × 3.
        Assert.True(Numbers(Array(panels[0], "series").ElementAt(1), "x")[^1] < 12);
        AssertSvgMatchesData(out_, data);
    }

    [Fact]
    public async Task Dynamics_has_one_line_per_configuration_holding_the_mean_over_seeds_of_each_epoch()
    {
        await PlotAsync(run.Dir, "--kind", "dynamics");
        string svg = Path.Combine(run.Dir, "plot-dynamics.svg"), json = Path.Combine(run.Dir, "plot-dynamics.json");
        Assert.True(File.Exists(svg));
        var data = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("dynamics", data.GetProperty("kind").GetString());
        Assert.Equal("nodeSparsity", data.GetProperty("metric").GetString());
        Assert.Equal(16, data.GetProperty("trials").GetInt32());

        var panels = Array(data, "panels").ToArray();
        Assert.Equal(["prune rate 0.5", "prune rate 0.9"], panels.Select(p => p.GetProperty("title").GetString()));
        foreach (var panel in panels)
        {
            double rate = panel.GetProperty("title").GetString() == "prune rate 0.5" ? 0.5 : 0.9;
            var expected = run.Trials.Where(t => t.GetProperty("params").GetProperty("pruneRate").GetDouble() == rate)
                .GroupBy(t => (Param(t, "regularizer"), Param(t, "lambda"))).ToArray();
            var series = Array(panel, "series").ToArray();
            Assert.Equal(4, expected.Length);
            Assert.Equal(expected.Length, series.Length);
            foreach (var configuration in expected)
            {
                var ids = configuration.Select(Id).Order(StringComparer.Ordinal).ToArray();
                Assert.Equal(2, ids.Length);   // two seeds
                var line = Assert.Single(series, s => Texts(s, "trialIds").SequenceEqual(ids));
                Assert.Equal([1d, 2d], Numbers(line, "x"));
                var perEpoch = configuration
                    .Select(t => t.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("nodeSparsity").GetDouble()).ToArray())
                    .ToArray();
                var y = Numbers(line, "y");
                for (int e = 0; e < 2; e++)
                {
                    Assert.Equal(Mean(perEpoch.Select(p => p[e])), y[e], 12);
                    Assert.Equal(perEpoch.Min(p => p[e]), Numbers(line, "yMin")[e]);
                    Assert.Equal(perEpoch.Max(p => p[e]), Numbers(line, "yMax")[e]);
                }
                // The last epoch's node sparsity is the trial's own.
                Assert.Equal(Mean(configuration.Select(t => t.GetProperty("nodeSparsity").GetDouble())), y[1], 12);
            }
        }
        AssertSvgMatchesData(svg, data);
    }

    [Fact]
    public async Task Listed_trials_get_one_line_each_with_their_own_per_epoch_values()
    {
        var picked = run.Trials.Take(3).ToArray();
        string out_ = Path.Combine(run.Dir, "picked.svg");
        await PlotAsync(run.Dir, "--kind", "dynamics", "--metric", "accuracy", "--trials", string.Join(",", picked.Select(Id)),
            "--out", out_);
        var data = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Dir, "picked.json"))).RootElement;
        Assert.Equal("accuracy", data.GetProperty("metric").GetString());
        var series = Array(data, "panels").SelectMany(p => Array(p, "series")).ToArray();
        Assert.Equal(picked.Select(Id).Order(), series.Select(s => Assert.Single(Texts(s, "trialIds"))).Order());
        foreach (var trial in picked)
        {
            var line = Assert.Single(series, s => Texts(s, "trialIds")[0] == Id(trial));
            Assert.Equal(trial.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("accuracy").GetDouble()),
                Numbers(line, "y"));
            Assert.False(line.TryGetProperty("yMin", out _));
        }
        AssertSvgMatchesData(out_, data);
    }

    [Fact]
    public async Task Layers_has_each_configurations_dead_fraction_per_hidden_layer()
    {
        string out_ = Path.Combine(run.Dir, "layers.svg");
        await PlotAsync(run.Dir, "--kind", "layers", "--out", out_);
        var data = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(out_, ".json"))).RootElement;
        Assert.Equal("layers", data.GetProperty("kind").GetString());
        foreach (var panel in Array(data, "panels"))
        {
            double rate = panel.GetProperty("title").GetString() == "prune rate 0.5" ? 0.5 : 0.9;
            foreach (var line in Array(panel, "series"))
            {
                Assert.Equal([1.0, 2.0], Numbers(line, "x"));   // fc1 and fc2 of the mlp
                var mine = run.Trials.Where(t => Param(t, "regularizer") == line.GetProperty("regularizer").GetString()
                    && t.GetProperty("params").GetProperty("lambda").GetDouble() == line.GetProperty("lambda").GetDouble()
                    && t.GetProperty("params").GetProperty("pruneRate").GetDouble() == rate).ToArray();
                Assert.NotEmpty(mine);
                for (int layer = 0; layer < 2; layer++)
                {
                    double expected = mine.Average(t =>
                    {
                        var l = t.GetProperty("layers")[layer];
                        return l.GetProperty("deadNodes").GetDouble() / l.GetProperty("nodes").GetDouble();
                    });
                    Assert.Equal(expected, Numbers(line, "y")[layer], 12);
                }
            }
        }
        AssertSvgMatchesData(out_, data);
    }

    [Fact]
    public async Task Lambda_has_the_sorted_distinct_lambdas_and_the_mean_final_values_per_regularizer()
    {
        await PlotAsync(run.Dir, "--kind", "lambda");
        var data = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Dir, "plot-lambda.json"))).RootElement;
        var panels = Array(data, "panels").ToArray();
        Assert.Equal(4, panels.Length);   // accuracy and node sparsity × two prune rates
        Assert.Equal(2, data.GetProperty("columns").GetInt32());
        foreach (var panel in panels)
        {
            var y = panel.GetProperty("y");
            string metric = y.GetProperty("label").GetString() == "accuracy" ? "accuracy" : "nodeSparsity";
            double rate = panel.GetProperty("title").GetString() == "prune rate 0.5" ? 0.5 : 0.9;
            Assert.Equal("log", panel.GetProperty("x").GetProperty("scale").GetString());
            var series = Array(panel, "series").ToArray();
            Assert.Equal(["l1", "l2"], series.Select(s => s.GetProperty("name").GetString()));
            foreach (var line in series)
            {
                string regularizer = line.GetProperty("regularizer").GetString()!;
                var mine = run.Trials.Where(t => Param(t, "regularizer") == regularizer
                    && t.GetProperty("params").GetProperty("pruneRate").GetDouble() == rate).ToArray();
                var lambdas = mine.Select(t => t.GetProperty("params").GetProperty("lambda").GetDouble()).Distinct().Order().ToArray();
                Assert.Equal([1e-4, 1e-3], lambdas);
                Assert.Equal(lambdas, Numbers(line, "x"));
                for (int i = 0; i < lambdas.Length; i++)
                {
                    var values = mine.Where(t => t.GetProperty("params").GetProperty("lambda").GetDouble() == lambdas[i])
                        .Select(t => t.GetProperty(metric).GetDouble()).ToArray();
                    Assert.Equal(2, values.Length);
                    Assert.Equal(values.Average(), Numbers(line, "y")[i], 12);
                    Assert.Equal(values.Min(), Numbers(line, "yMin")[i]);
                    Assert.Equal(values.Max(), Numbers(line, "yMax")[i]);
                    Assert.Equal(Math.Abs(values[0] - values[1]) / Math.Sqrt(2), Numbers(line, "yStd")[i], 12);
                    Assert.Equal(2, Array(line, "count").ElementAt(i).GetInt32());
                }
            }
        }
        AssertSvgMatchesData(Path.Combine(run.Dir, "plot-lambda.svg"), data);
    }

    /// <summary>The non-dominated set by the definition, O(n²), independent of the production code.</summary>
    private string[] NonDominated(string sparsity)
    {
        var v = run.Trials.Select(t => (A: t.GetProperty("accuracy").GetDouble(), S: t.GetProperty(sparsity).GetDouble())).ToArray();
        return run.Trials
            .Where((_, i) => !v.Where((_, j) => j != i).Any(o => o.A >= v[i].A && o.S >= v[i].S && (o.A > v[i].A || o.S > v[i].S)))
            .Select(Id).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task Front_shows_every_trial_and_joins_exactly_the_non_dominated_ones()
    {
        string folder = Path.Combine(run.Dir, "figures");
        Directory.CreateDirectory(folder);
        await PlotAsync(run.Dir, "--kind", "front", "--out", folder);   // a folder: plot-front.svg inside it
        var data = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "plot-front.json"))).RootElement;
        var frontJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Dir, "front.json"))).RootElement;
        var panels = Array(data, "panels").ToArray();
        Assert.Equal(2, panels.Length);
        var fromFrontJson = new[] { frontJson, frontJson.GetProperty("nodeFront") };
        string[] sparsities = ["weightSparsity", "nodeSparsity"];
        var byId = run.Trials.ToDictionary(Id);
        for (int i = 0; i < 2; i++)
        {
            var series = Array(panels[i], "series").ToArray();
            var front = series[^1];
            Assert.Equal("front", front.GetProperty("style").GetString());
            var ids = Texts(front, "trialIds");
            Assert.Equal(NonDominated(sparsities[i]), ids.Order(StringComparer.Ordinal));
            Assert.Equal(
                Array(fromFrontJson[i], "points").Select(p => p.GetProperty("trialId").GetString()!).Order(StringComparer.Ordinal),
                ids.Order(StringComparer.Ordinal));
            var x = Numbers(front, "x");
            Assert.Equal(x.Order(), x);   // drawn left to right
            var points = series.Where(s => s.GetProperty("style").GetString() == "points").ToArray();
            Assert.Equal(["l1", "l2"], points.Select(s => s.GetProperty("name").GetString()));
            Assert.Equal(run.Trials.Select(Id).Order(StringComparer.Ordinal),
                points.SelectMany(s => Texts(s, "trialIds")).Order(StringComparer.Ordinal));
            foreach (var s in points)
            {
                var ys = Numbers(s, "y");
                var xs = Numbers(s, "x");
                var pointIds = Texts(s, "trialIds");
                for (int j = 0; j < pointIds.Length; j++)
                {
                    Assert.Equal(byId[pointIds[j]].GetProperty("accuracy").GetDouble(), ys[j]);
                    Assert.Equal(byId[pointIds[j]].GetProperty(sparsities[i]).GetDouble(), xs[j]);
                }
            }
        }
        AssertSvgMatchesData(Path.Combine(folder, "plot-front.svg"), data);
    }

    [Theory]
    [InlineData("--kind", "")]
    [InlineData("--kind", "--kind scatter")]
    [InlineData("--metric", "--kind dynamics --metric loss")]
    [InlineData("--metric", "--kind front --metric accuracy")]
    [InlineData("--trials", "--kind dynamics --trials tffffffffffff")]
    [InlineData("--out", "--kind front --out /nonexistent-sweep-folder/x.svg")]
    [InlineData("--data", "--kind front --out same.json")]
    [InlineData("--frobnicate", "--kind front --frobnicate 1")]
    public async Task Bad_flags_exit_2_with_one_line_naming_the_flag(string flag, string args)
    {
        var r = await SweepProcess.RunAsync(["plot", run.Dir, .. args.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(flag == "--frobnicate" ? "sweep: unknown option --frobnicate" : $"sweep: {flag}: ", line);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task A_missing_folder_or_one_without_trials_exits_2_naming_it()
    {
        string missing = Path.Combine(run.Dir, "no-such-run");
        var r = await SweepProcess.RunAsync(["plot", missing, "--kind", "front"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"sweep: {missing}: no such folder", r.Stderr.Trim());

        string empty = Directory.CreateTempSubdirectory("sweep-plot-empty-").FullName;
        try
        {
            r = await SweepProcess.RunAsync(["plot", empty, "--kind", "front"]);
            Assert.Equal(2, r.ExitCode);
            Assert.StartsWith($"sweep: {Path.Combine(empty, "trials.jsonl")}: not found", r.Stderr.Trim());
            Assert.Empty(Directory.GetFiles(empty));   // nothing written

            // A run folder whose trials all failed has nothing to plot.
            await File.WriteAllTextAsync(Path.Combine(empty, "trials.jsonl"),
                """{"trialId":"t1","sweepId":"s","status":"failed","params":{},"error":"boom"}""" + "\n",
                TestContext.Current.CancellationToken);
            r = await SweepProcess.RunAsync(["plot", empty, "--kind", "lambda"]);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"sweep: {empty}: no completed trial to plot", r.Stderr.Trim());
        }
        finally { Directory.Delete(empty, true); }
    }

    [Fact]
    public async Task Help_lists_the_kinds_and_the_command_is_in_the_usage()
    {
        var help = await SweepProcess.RunAsync(["plot", "--help"]);
        Assert.Equal(0, help.ExitCode);
        foreach (var word in new[] { "dynamics", "front", "lambda", "--trials", "--metric", "--out", "--data" })
            Assert.Contains(word, help.Stdout);
        var usage = await SweepProcess.RunAsync(["--help"]);
        Assert.Contains("  plot ", usage.Stdout);
    }
}
