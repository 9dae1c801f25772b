using System.Xml.Linq;
using Sweep.Cli.Output;
using Sweep.Core.Models;
using Xunit;

namespace Sweep.Cli.Tests;

/// <summary>PlotData and PlotSvg on hand-built results, against figures worked out by hand.</summary>
public sealed class PlotDataTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static TrialResult Trial(string id, string regularizer, double lambda, long seed, double[] nodeSparsity,
        double rate = 0.9, string method = "stochastic", double? accuracy = null, double? weightSparsity = null,
        TrialStatus status = TrialStatus.Completed) => new()
    {
        TrialId = id,
        SweepId = "s",
        Status = status,
        Params = new TrialParameters { Regularizer = regularizer, Lambda = lambda, PruneRate = rate, PruneMethod = method, Seed = seed,
            Epochs = nodeSparsity.Length },
        Accuracy = accuracy ?? 0.9,
        WeightSparsity = weightSparsity ?? rate,
        NodeSparsity = nodeSparsity.Length > 0 ? nodeSparsity[^1] : 0,
        Epochs = nodeSparsity.Select((v, i) =>
            new EpochRecord(i + 1, 1.0 / (i + 1), 0.5 + 0.1 * i + 0.01 * seed, rate * (i + 1) / nodeSparsity.Length, v, 0.1)).ToArray(),
    };

    // Two configurations × two seeds, three epochs, one prune rate.
    private static readonly TrialResult[] Replicated =
    [
        Trial("a0", "l1", 1e-4, 0, [0.1, 0.2, 0.4]),
        Trial("a1", "l1", 1e-4, 1, [0.3, 0.4, 0.5]),
        Trial("b0", "l2", 1e-3, 0, [0.0, 0.1, 0.2]),
        Trial("b1", "l2", 1e-3, 1, [0.0, 0.3, 0.2]),
    ];

    [Fact]
    public void Dynamics_averages_each_epoch_over_the_seeds_of_a_configuration()
    {
        var figure = PlotData.Dynamics(Replicated);

        Assert.Equal(PlotKind.Dynamics, figure.Kind);
        Assert.Equal("nodeSparsity", figure.Metric);
        Assert.Equal(4, figure.Trials);
        var panel = Assert.Single(figure.Panels);
        Assert.Equal("prune rate 0.9", panel.Title);
        Assert.Equal(["l1, λ 1e-4", "l2, λ 1e-3"], panel.Series.Select(s => s.Name));
        var l1 = panel.Series[0];
        Assert.Equal([1d, 2, 3], l1.X);
        Assert.Equal([0.2, 0.3, 0.45], l1.Y.Select(v => Math.Round(v, 12)));
        Assert.Equal([0.1, 0.2, 0.4], l1.YMin!);
        Assert.Equal([0.3, 0.4, 0.5], l1.YMax!);
        // Sample standard deviation of two values a, b is |a − b| / √2.
        Assert.Equal([0.2 / Math.Sqrt(2), 0.2 / Math.Sqrt(2), 0.1 / Math.Sqrt(2)], l1.YStd!.Select(v => Math.Round(v, 12)),
            new RoundedEquality(12));
        Assert.Equal([2, 2, 2], l1.Count!);
        Assert.Equal(["a0", "a1"], l1.TrialIds);
        Assert.Equal(("l1", 1e-4, "stochastic", 0.9), (l1.Regularizer, l1.Lambda!.Value, l1.PruneMethod, l1.PruneRate!.Value));
        Assert.Equal([0.0, 0.2, 0.2], panel.Series[1].Y.Select(v => Math.Round(v, 12)));
        Assert.Equal(("epoch", 1d, 3d), (panel.X.Label, panel.X.Min, panel.X.Max));
        Assert.Equal(("node sparsity", 0d, 1d), (panel.Y.Label, panel.Y.Min, panel.Y.Max));
    }

    [Fact]
    public void Dynamics_per_trial_draws_each_trial_s_own_values_without_spread()
    {
        var figure = PlotData.Dynamics(Replicated, "accuracy", perTrial: true);
        var series = Assert.Single(figure.Panels).Series;
        Assert.Equal(["a0", "a1", "b0", "b1"], series.Select(s => Assert.Single(s.TrialIds)));
        Assert.Equal("a1: l1, λ 1e-4, seed 1", series[1].Name);
        // The hand-built accuracy of epoch i (1-based) is 0.5 + 0.1·(i − 1) + 0.01·seed.
        Assert.Equal([0.51, 0.61, 0.71], series[1].Y.Select(v => Math.Round(v, 12)));
        Assert.Null(series[1].YMin);
        Assert.Null(series[1].Count);
        Assert.Equal(0.5, Assert.Single(figure.Panels).Y.Min);   // accuracy axis: the lowest value rounded down to a tenth
    }

    [Fact]
    public void Only_completed_trials_count_and_a_trial_id_counts_once()
    {
        TrialResult[] trials =
        [
            .. Replicated,
            Trial("a0", "l1", 1e-4, 0, [1, 1, 1]),                                  // a second result of a0 is ignored
            Trial("f0", "l1", 1e-4, 2, [1, 1, 1], status: TrialStatus.Failed),
        ];
        var l1 = PlotData.Dynamics(trials).Panels[0].Series[0];
        Assert.Equal(["a0", "a1"], l1.TrialIds);
        Assert.Equal(0.2, l1.Y[0], 12);
    }

    [Fact]
    public void Each_prune_rate_gets_a_panel_and_unpruned_trials_appear_in_every_one()
    {
        TrialResult[] trials =
        [
            Trial("r5", "l1", 1e-4, 0, [0.1, 0.2], rate: 0.5),
            Trial("r9", "l1", 1e-4, 0, [0.3, 0.4], rate: 0.9),
            Trial("m9", "l1", 1e-4, 0, [0.2, 0.5], rate: 0.9, method: "magnitude"),
            Trial("d0", "none", 1e-4, 0, [0.0, 0.0], rate: 0, method: "none"),
        ];
        var figure = PlotData.Dynamics(trials);
        Assert.Equal(["prune rate 0.5", "prune rate 0.9"], figure.Panels.Select(p => p.Title));
        Assert.Equal(["l1, λ 1e-4, stochastic", "no regularizer, no pruning"], figure.Panels[0].Series.Select(s => s.Name));
        Assert.Equal(["l1, λ 1e-4, stochastic", "l1, λ 1e-4, magnitude", "no regularizer, no pruning"],
            figure.Panels[1].Series.Select(s => s.Name));
        Assert.Equal([0.3, 0.4], figure.Panels[1].Series[0].Y);
    }

    [Fact]
    public void More_prune_rates_than_panels_share_one_panel_with_the_rate_in_each_name()
    {
        var trials = Enumerable.Range(0, PlotData.MaxRatePanels + 1)
            .Select(i => Trial($"t{i}", "l2", 1e-4, 0, [0.1 * i], rate: 0.5 + 0.05 * i)).ToArray();
        var panel = Assert.Single(PlotData.Dynamics(trials).Panels);
        Assert.Equal("all prune rates", panel.Title);
        Assert.Equal(trials.Length, panel.Series.Count);
        Assert.Equal("l2, λ 1e-4, rate 0.55", panel.Series[1].Name);
    }

    [Fact]
    public void An_unknown_metric_is_refused()
    {
        Assert.Throws<ArgumentException>(() => PlotData.Dynamics(Replicated, "loss"));
        Assert.Throws<ArgumentException>(() => PlotData.Lambda(Replicated, ["loss"]));
    }

    [Fact]
    public void Lambda_puts_the_mean_over_seeds_at_each_distinct_lambda_and_unregularized_trials_as_a_baseline()
    {
        TrialResult[] trials =
        [
            Trial("x1", "l1", 1e-3, 0, [0.6], accuracy: 0.80),
            Trial("x2", "l1", 1e-5, 0, [0.2], accuracy: 0.90),
            Trial("x3", "l1", 1e-5, 1, [0.4], accuracy: 0.94),
            Trial("x4", "l1", 1e-4, 0, [0.3], accuracy: 0.92),
            Trial("y1", "l2", 1e-2, 0, [0.5], accuracy: 0.85),
            Trial("n1", "none", 1e-4, 0, [0.1], accuracy: 0.95),
            Trial("n2", "none", 1e-4, 1, [0.2], accuracy: 0.93),
        ];
        var figure = PlotData.Lambda(trials);

        Assert.Equal(2, figure.Panels.Count);   // one prune rate, two measures
        var (accuracy, nodes) = (figure.Panels[0], figure.Panels[1]);
        Assert.Equal(("λ", AxisScale.Log), (accuracy.X.Label, accuracy.X.Scale));
        // The λ range 1e-5 … 1e-2 widened by a quarter decade each side.
        Assert.Equal(1e-5 / Math.Pow(10, 0.25), accuracy.X.Min, 15);
        Assert.Equal(1e-2 * Math.Pow(10, 0.25), accuracy.X.Max, 12);
        Assert.Equal(("accuracy", "node sparsity"), (accuracy.Y.Label, nodes.Y.Label));
        Assert.Equal(["l1", "l2", "no regularizer"], accuracy.Series.Select(s => s.Name));

        var l1 = accuracy.Series[0];
        Assert.Equal(SeriesStyle.Line, l1.Style);
        Assert.Equal([1e-5, 1e-4, 1e-3], l1.X);
        Assert.Equal([0.92, 0.92, 0.80], l1.Y.Select(v => Math.Round(v, 12)));
        Assert.Equal([0.90, 0.92, 0.80], l1.YMin!);
        Assert.Equal([0.94, 0.92, 0.80], l1.YMax!);
        Assert.Equal([2, 1, 1], l1.Count!);
        Assert.Equal([0.3, 0.3, 0.6], nodes.Series[0].Y.Select(v => Math.Round(v, 12)));

        var baseline = accuracy.Series[2];
        Assert.Equal(SeriesStyle.Baseline, baseline.Style);
        Assert.Equal([accuracy.X.Min, accuracy.X.Max], baseline.X);   // across the whole axis
        Assert.Equal([0.94, 0.94], baseline.Y.Select(v => Math.Round(v, 12)));
        Assert.Equal([0.93, 0.93], baseline.YMin!);
        Assert.Equal(["n1", "n2"], baseline.TrialIds);
    }

    [Fact]
    public void Lambda_without_a_regularized_trial_has_no_panels()
    {
        var figure = PlotData.Lambda([Trial("n1", "none", 1e-4, 0, [0.1])]);
        Assert.Empty(figure.Panels);
    }

    [Fact]
    public void Front_marks_exactly_the_non_dominated_trials_of_each_panel()
    {
        TrialResult[] trials =
        [
            Trial("p1", "l1", 1e-4, 0, [0.30], accuracy: 0.95, weightSparsity: 0.5),
            Trial("p2", "l1", 1e-4, 1, [0.10], accuracy: 0.94, weightSparsity: 0.9),
            Trial("p3", "l2", 1e-4, 0, [0.50], accuracy: 0.90, weightSparsity: 0.7),   // dominated by p2 on weights, not on nodes
            Trial("p4", "l2", 1e-4, 1, [0.05], accuracy: 0.93, weightSparsity: 0.6),   // dominated in both
            Trial("p5", "none", 1e-4, 0, [0.50], accuracy: 0.90, weightSparsity: 0.7), // ties p3: both stay on the node front
        ];
        var figure = PlotData.Front(trials);
        Assert.Equal(["accuracy vs weight sparsity", "accuracy vs node sparsity"], figure.Panels.Select(p => p.Title));
        var weights = figure.Panels[0].Series;
        Assert.Equal(["l1", "l2", "no regularizer", "Pareto front"], weights.Select(s => s.Name));
        Assert.Equal(["p3", "p4"], weights[1].TrialIds);
        Assert.Equal([0.7, 0.6], weights[1].X);
        Assert.Equal(["p1", "p2"], weights[3].TrialIds);   // sparsity ascending
        Assert.Equal([0.5, 0.9], weights[3].X);
        Assert.Equal([0.95, 0.94], weights[3].Y);
        var nodes = figure.Panels[1].Series[^1];
        Assert.Equal(SeriesStyle.Front, nodes.Style);
        Assert.Equal(["p1", "p3", "p5"], nodes.TrialIds);
        Assert.Equal([0.3, 0.5, 0.5], nodes.X);
    }

    [Fact]
    public void The_json_reads_back_as_the_same_figure()
    {
        var figure = PlotData.Lambda(Replicated);
        string json = figure.ToJson();
        Assert.Contains("\"λ\"", json);
        Assert.Contains("\"style\": \"line\"", json);
        Assert.Equal(json, PlotFigure.FromJson(json).ToJson());
    }

    [Fact]
    public void The_svg_holds_one_series_group_per_series_with_one_path_for_each_line()
    {
        var figure = PlotData.Lambda(Replicated);
        var doc = XDocument.Parse(PlotSvg.Render(figure));
        var panels = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "panel").ToArray();
        Assert.Equal(figure.Panels.Count, panels.Length);
        for (int i = 0; i < panels.Length; i++)
        {
            var groups = panels[i].Elements(Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToArray();
            Assert.Equal(figure.Panels[i].Series.Select(s => s.Name), groups.Select(g => (string)g.Attribute("data-name")!));
            Assert.All(groups, g => Assert.Single(g.Elements(Svg + "path")));
            Assert.Equal(figure.Panels[i].Series.Sum(s => s.X.Count), panels[i].Descendants(Svg + "circle").Count());
        }
        var labels = doc.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        Assert.Contains("1e-4", labels);
        Assert.Contains("1e-3", labels);
        Assert.Contains("λ", labels);
        Assert.Contains(figure.Title, labels);
    }

    [Fact]
    public void Points_and_fronts_draw_one_circle_per_trial()
    {
        var figure = PlotData.Front(Replicated);
        var doc = XDocument.Parse(PlotSvg.Render(figure));
        var groups = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToArray();
        var series = figure.Panels.SelectMany(p => p.Series).ToArray();
        Assert.Equal(series.Length, groups.Length);
        for (int i = 0; i < series.Length; i++)
        {
            Assert.Equal(series[i].X.Count, groups[i].Elements(Svg + "circle").Count());
            Assert.Equal(series[i].Style == SeriesStyle.Points ? 0 : 1, groups[i].Elements(Svg + "path").Count());
        }
    }

    [Fact]
    public void Linear_ticks_are_round_numbers_and_never_minus_zero()
    {
        var labels = PlotSvg.Ticks(new PlotAxis("x", AxisScale.Linear, 0, 1)).Select(t => t.Label).ToArray();
        Assert.Equal(["0", "0.2", "0.4", "0.6", "0.8", "1"], labels);
        var epochs = PlotSvg.Ticks(new PlotAxis("epoch", AxisScale.Linear, 1, 3, IntegerTicks: true)).Select(t => t.Label).ToArray();
        Assert.Equal(["1", "2", "3"], epochs);
        var log = PlotSvg.Ticks(new PlotAxis("λ", AxisScale.Log, 5e-6, 2e-3));
        Assert.Equal(["1e-5", "1e-4", "1e-3"], log.Where(t => t.Label is not null).Select(t => t.Label));
        Assert.All(log, t => Assert.InRange(t.Value, 5e-6, 2e-3));
    }

    private sealed class RoundedEquality(int digits) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Round(x, digits) == Math.Round(y, digits);
        public int GetHashCode(double v) => Math.Round(v, digits).GetHashCode();
    }

    [Fact]
    public void Legends_name_every_parameter_that_varies_and_no_other()
    {
        var trials = Replicated
            .Select((t, i) => t with { Params = t.Params with { LearningRate = i % 2 == 0 ? 0.05 : 0.1, Model = "mlp" } }).ToArray();

        var names = PlotData.Dynamics(trials, perTrial: true).Panels[0].Series.Select(s => s.Name).ToArray();

        Assert.Equal(4, names.Length);
        Assert.All(names, n => Assert.Matches(@", lr 0\.(05|1), seed \d$", n));
        Assert.DoesNotContain(names, n => n.Contains("mlp", StringComparison.Ordinal) || n.Contains("epochs", StringComparison.Ordinal));
    }
}
