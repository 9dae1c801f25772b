using Sweep.Core;
using Sweep.Core.Search;
using Sweep.Client;
using System.Globalization;
using Sweep.Core.Models;
using Sweep.Core.Pareto;

namespace Sweep.Cli.Output;

/// <summary>
/// Builds the data of `sweep plot`'s figures from trial results (a run folder's trials.jsonl, or
/// <see cref="SweepClient.GetResultsAsync"/>). Pure computation, no drawing: <see cref="PlotSvg"/> draws the result and
/// <see cref="PlotFigure.ToJson"/> writes it out.
/// <para>
/// Only completed trials count, each trial id once (the first occurrence). Panels: dynamics and λ plots get one panel per
/// prune rate (per model and prune rate when several models are present) as long as there are at most
/// <see cref="MaxRatePanels"/> rates; trials with prune method "none" never prune, so their rate is meaningless and they
/// appear in every panel. With more rates (a random search over the rate) all trials share one panel and the rate becomes
/// part of each series. A configuration is every trial parameter except the seed (and except λ without a regularizer,
/// the prune rate without pruning: training ignores them); its replicates (seeds) are averaged.
/// </para>
/// </summary>
public static class PlotData
{
    /// <summary>The measures a dynamics or λ plot can show, by their names in trials.jsonl.</summary>
    public static readonly IReadOnlyList<string> Metrics = ["nodeSparsity", "accuracy", "weightSparsity"];

    /// <summary>The most prune rates that get a panel each; beyond this they share one panel.</summary>
    public const int MaxRatePanels = 6;

    // Legend order: the regularizers with a penalty first, unregularized last; the prune methods as the vocabulary lists them.
    private static readonly string[] RegularizerOrder = [.. Vocabularies.Regularizers.Names.Skip(1), Vocabularies.Regularizers.Names[0]];
    private static readonly string[] MethodOrder = [.. Vocabularies.PruneMethods.Names];
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// <paramref name="metric"/> (one of <see cref="Metrics"/>, from each trial's per-epoch records) against the epoch.
    /// By default one line per configuration: at each epoch the mean over the configuration's seeds, with min, max,
    /// sample standard deviation and count. With <paramref name="perTrial"/> one line per trial, its own values.
    /// Colour follows the regularizer, shade the λ (darker = larger), dash the prune method.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="metric"/> is not one of <see cref="Metrics"/>.</exception>
    public static PlotFigure Dynamics(
        IEnumerable<TrialResult> trials, string metric = "nodeSparsity", bool perTrial = false, string title = "")
    {
        CheckMetric(metric);
        var completed = Completed(trials).Where(t => t.Epochs.Count > 0).ToArray();
        var facets = Facets(completed);
        var varying = Varying.Of(completed, facets.ByRate);
        double maxEpoch = completed.SelectMany(t => t.Epochs).Select(e => (double)e.Epoch).DefaultIfEmpty(1).Max();
        // Epochs count from 1 (the first record is after one epoch of training).
        var xAxis = new PlotAxis("epoch", AxisScale.Linear, maxEpoch > 1 ? 1 : 0, Math.Max(1, maxEpoch), IntegerTicks: true);
        var yAxis = YAxis(metric, completed.SelectMany(t => t.Epochs).Select(e => EpochValue(e, metric)));

        var panels = new List<PlotPanel>();
        foreach (var facet in facets.All)
        {
            var members = facet.Members(completed);
            var groups = perTrial
                ? members.OrderBy(t => t.Params, ParameterOrder.Instance).ThenBy(t => t.TrialId, StringComparer.Ordinal)
                    .Select(t => new[] { t })
                : members.GroupBy(t => Configuration(t.Params)).OrderBy(g => g.Key, ParameterOrder.Instance).Select(g => g.ToArray());
            var series = new List<PlotSeries>();
            foreach (var group in groups)
            {
                var p = perTrial ? group[0].Params : Configuration(group[0].Params);
                var points = group.SelectMany(t => t.Epochs)
                    .Select(e => (e.Epoch, Value: EpochValue(e, metric)))
                    .Where(e => double.IsFinite(e.Value))
                    .GroupBy(e => e.Epoch)
                    .OrderBy(g => g.Key)
                    .Select(g => (X: (double)g.Key, Stats: Stats.Of(g.Select(e => e.Value))))
                    .ToArray();
                if (points.Length == 0) continue;
                string name = varying.Describe(p, withLambda: true);
                series.Add(MeanLine(perTrial ? $"{group[0].TrialId}: {name}, seed {p.Seed}" : name, p, points, group, spread: !perTrial));
            }
            panels.Add(new PlotPanel { Title = facet.Title, X = xAxis, Y = yAxis, Series = series });
        }
        return new PlotFigure
        {
            Kind = PlotKind.Dynamics,
            Title = Titled(title, $"{Label(metric)} per epoch{(perTrial ? "" : ", mean over seeds")}"),
            Metric = metric,
            Trials = completed.Length,
            Columns = Math.Clamp(panels.Count, 1, 3),
            Panels = panels,
        };
    }

    /// <summary>
    /// Dead nodes per hidden layer at the end of training: for each configuration (mean over seeds, with the spread), the
    /// fraction of each hidden layer's nodes that are dead (units of a Linear layer, filters of a Conv), at x = the
    /// layer's position (1 = the first hidden layer). One panel per model (their layers differ) and prune rate.
    /// </summary>
    public static PlotFigure Layers(IEnumerable<TrialResult> trials, string title = "")
    {
        var completed = Completed(trials).Where(t => t.Layers.Any(l => l.Nodes > 0)).ToArray();
        var facets = Facets(completed);
        var varying = Varying.Of(completed, facets.ByRate);
        double maxLayers = completed.Select(t => t.Layers.Count(l => l.Nodes > 0)).DefaultIfEmpty(1).Max();
        var xAxis = new PlotAxis("hidden layer", AxisScale.Linear, 1, Math.Max(2, maxLayers), IntegerTicks: true);
        var yAxis = new PlotAxis("dead nodes", AxisScale.Linear, 0, 1);
        var panels = new List<PlotPanel>();
        foreach (var facet in facets.All)
        {
            var series = new List<PlotSeries>();
            var groups = facet.Members(completed).GroupBy(t => Configuration(t.Params)).OrderBy(g => g.Key, ParameterOrder.Instance);
            foreach (var group in groups)
            {
                var p = group.Key;
                var points = group
                    .SelectMany(t => t.Layers.Where(l => l.Nodes > 0).Select((l, i) => (X: i + 1.0, V: (double)l.DeadNodes / l.Nodes)))
                    .GroupBy(q => q.X).OrderBy(g => g.Key)
                    .Select(g => (X: g.Key, Stats: Stats.Of(g.Select(q => q.V)))).ToArray();
                series.Add(MeanLine(varying.Describe(p, withLambda: true), p, points, group, spread: true));
            }
            panels.Add(new PlotPanel { Title = facet.Title, X = xAxis, Y = yAxis, Series = series });
        }
        return new PlotFigure
        {
            Kind = PlotKind.Layers,
            Title = Titled(title, "dead nodes per hidden layer, mean over seeds"),
            Trials = completed.Length,
            Columns = Math.Clamp(panels.Count, 1, 3),
            Panels = panels,
        };
    }

    /// <summary>
    /// Two panels, accuracy against weight sparsity and against node sparsity: every trial a point (one series per
    /// regularizer, in trial-id order), then the panel's Pareto front (both measures maximized, as
    /// <see cref="ParetoFront.NonDominated"/> computes it) ordered by sparsity ascending, accuracy descending.
    /// </summary>
    public static PlotFigure Front(IEnumerable<TrialResult> trials, string title = "")
    {
        var completed = Completed(trials).ToArray();
        var points = completed.Select(t => new FrontPoint(t.TrialId, t.Params, t.Accuracy ?? double.NaN,
            t.WeightSparsity ?? double.NaN, t.NodeSparsity ?? double.NaN)).ToArray();
        var yAxis = YAxis("accuracy", points.Select(p => p.Accuracy));
        var panels = new List<PlotPanel>();
        foreach (var sparsity in new[] { "weightSparsity", "nodeSparsity" })
        {
            var series = new List<PlotSeries>();
            var shown = points.Where(p => double.IsFinite(p.Accuracy) && double.IsFinite(Objectives.Of(p, sparsity))).ToArray();
            foreach (var group in shown.GroupBy(p => p.Params.Regularizer)
                .OrderBy(g => Rank(RegularizerOrder, g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
            {
                var ordered = group.OrderBy(p => p.TrialId, StringComparer.Ordinal).ToArray();
                series.Add(new PlotSeries
                {
                    Name = RegularizerLabel(group.Key),
                    Style = SeriesStyle.Points,
                    Regularizer = group.Key,
                    X = ordered.Select(p => Objectives.Of(p, sparsity)).ToArray(),
                    Y = ordered.Select(p => p.Accuracy).ToArray(),
                    TrialIds = ordered.Select(p => p.TrialId).ToArray(),
                    PointLabels = ordered.Select(p => Settings(p.Params)).ToArray(),
                });
            }
            var front = ParetoFront.NonDominated(shown, "accuracy", sparsity)
                .OrderBy(p => Objectives.Of(p, sparsity)).ThenByDescending(p => p.Accuracy).ThenBy(p => p.TrialId, StringComparer.Ordinal)
                .ToArray();
            if (front.Length > 0)
            {
                series.Add(new PlotSeries
                {
                    Name = "Pareto front",
                    Style = SeriesStyle.Front,
                    X = front.Select(p => Objectives.Of(p, sparsity)).ToArray(),
                    Y = front.Select(p => p.Accuracy).ToArray(),
                    TrialIds = front.Select(p => p.TrialId).ToArray(),
                    PointLabels = front.Select(p => Settings(p.Params)).ToArray(),
                });
            }
            panels.Add(new PlotPanel
            {
                Title = $"accuracy vs {Label(sparsity)}",
                X = new PlotAxis(Label(sparsity), AxisScale.Linear, 0, 1),
                Y = yAxis,
                Series = series,
            });
        }
        return new PlotFigure
        {
            Kind = PlotKind.Front,
            Title = Titled(title, "Pareto fronts of accuracy and sparsity"),
            Trials = completed.Length,
            Columns = 2,
            Panels = panels,
        };
    }

    /// <summary>
    /// Each of <paramref name="metrics"/> (default accuracy and node sparsity; final values) against λ on a log axis, one
    /// row of panels per metric. One line per configuration without its λ (so per regularizer and prune method, and any
    /// other parameter that varies): at each distinct λ the mean over the trials (seeds), with min, max, sample
    /// standard deviation and count. Unregularized trials (regularizer "none") have no λ: each of their configurations is
    /// a <see cref="SeriesStyle.Baseline"/>, given at both ends of the λ axis (the regularized trials' λ range widened by a
    /// quarter decade each side). With no regularized trial there is no λ axis and the figure has no panels.
    /// </summary>
    /// <exception cref="ArgumentException">A metric is not one of <see cref="Metrics"/>, or none is given.</exception>
    public static PlotFigure Lambda(IEnumerable<TrialResult> trials, IReadOnlyList<string>? metrics = null, string title = "")
    {
        metrics ??= ["accuracy", "nodeSparsity"];
        if (metrics.Count == 0) throw new ArgumentException("Give at least one metric.", nameof(metrics));
        foreach (var m in metrics) CheckMetric(m, nameof(metrics));
        var completed = Completed(trials).ToArray();
        var regularized = completed.Where(IsRegularized).ToArray();
        string what = $"{string.Join(" and ", metrics.Select(Label))} vs λ, mean over seeds (bars: min–max)";
        if (regularized.Length == 0)
            return new PlotFigure { Kind = PlotKind.Lambda, Title = Titled(title, what), Trials = completed.Length, Panels = [] };

        double lo = regularized.Min(t => t.Params.Lambda), hi = regularized.Max(t => t.Params.Lambda);
        var xAxis = LogAxis("λ", lo, hi);
        var facets = Facets(completed);
        var varying = Varying.Of(completed, facets.ByRate);
        var panels = new List<PlotPanel>();
        foreach (var metric in metrics)
        {
            var yAxis = YAxis(metric, completed.Select(t => FinalValue(t, metric)));
            foreach (var facet in facets.All)
            {
                var members = facet.Members(completed).Where(t => double.IsFinite(FinalValue(t, metric))).ToArray();
                var series = new List<PlotSeries>();
                var groups = members.Where(t => IsRegularized(t) || !t.Params.IsRegularized)
                    .GroupBy(t => Configuration(t.Params) with { Lambda = 0 })
                    .OrderBy(g => g.Key, ParameterOrder.Instance);
                foreach (var group in groups)
                {
                    var p = group.Key;
                    var ids = group.Select(t => t.TrialId).Order(StringComparer.Ordinal).ToArray();
                    var common = new PlotSeries
                    {
                        Name = varying.Describe(p, withLambda: false),
                        Regularizer = p.Regularizer,
                        PruneMethod = p.PruneMethod,
                        PruneRate = !p.IsPruned ? null : p.PruneRate,
                        TrialIds = ids,
                    };
                    if (!p.IsRegularized)
                    {
                        var s = Stats.Of(group.Select(t => FinalValue(t, metric)));
                        series.Add(common with
                        {
                            Style = SeriesStyle.Baseline,
                            X = [xAxis.Min, xAxis.Max], Y = [s.Mean, s.Mean], YMin = [s.Min, s.Min], YMax = [s.Max, s.Max],
                            YStd = [s.Std, s.Std], Count = [s.Count, s.Count],
                        });
                        continue;
                    }
                    var points = group.GroupBy(t => t.Params.Lambda).OrderBy(g => g.Key)
                        .Select(g => (X: g.Key, Stats: Stats.Of(g.Select(t => FinalValue(t, metric))))).ToArray();
                    series.Add(common with
                    {
                        Style = SeriesStyle.Line,
                        X = points.Select(q => q.X).ToArray(),
                        Y = points.Select(q => q.Stats.Mean).ToArray(),
                        YMin = points.Select(q => q.Stats.Min).ToArray(),
                        YMax = points.Select(q => q.Stats.Max).ToArray(),
                        YStd = points.Select(q => q.Stats.Std).ToArray(),
                        Count = points.Select(q => q.Stats.Count).ToArray(),
                    });
                }
                panels.Add(new PlotPanel { Title = facet.Title, X = xAxis, Y = yAxis, Series = series });
            }
        }
        return new PlotFigure
        {
            Kind = PlotKind.Lambda,
            Title = Titled(title, what),
            Trials = completed.Length,
            Columns = facets.All.Count,
            Panels = panels,
        };
    }

    /// <summary>The words for a measure on an axis: "node sparsity", "weight sparsity", "accuracy".</summary>
    public static string Label(string metric) => metric switch
    {
        "nodeSparsity" => "node sparsity",
        "weightSparsity" => "weight sparsity",
        _ => metric,
    };

    /// <summary>λ as the legend and tick labels write it: 1e-4, 3e-5, 2.5e-3.</summary>
    public static string FormatLambda(double lambda) => lambda.ToString("0.##e0", Invariant);

    private static void CheckMetric(string metric, string paramName = "metric")
    {
        if (!Metrics.Contains(metric))
            throw new ArgumentException($"Unknown metric '{metric}'; expected one of {string.Join(", ", Metrics)}.", paramName);
    }

    private static IEnumerable<TrialResult> Completed(IEnumerable<TrialResult> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        return trials.Where(t => t is { Status: TrialStatus.Completed }).DistinctBy(t => t.TrialId);
    }

    /// <summary>
    /// A trial's configuration: its parameters without the seed, without λ when there is no regularizer and without the
    /// prune rate when there is no pruning (training ignores them then, so such trials differ only in their seed).
    /// </summary>
    private static TrialParameters Configuration(TrialParameters p) => p.Normalized() with
    {
        Seed = 0,
        PruneRate = !p.IsPruned ? 0 : p.PruneRate,
    };

    private static bool IsRegularized(TrialResult t) => t.Params.IsRegularized && t.Params.Lambda > 0 && double.IsFinite(t.Params.Lambda);

    private static double EpochValue(EpochRecord e, string metric) => Objectives.Of(e, Vocabularies.Objectives.Parse(metric));

    private static double FinalValue(TrialResult t, string metric) =>
        Objectives.Of(t, Vocabularies.Objectives.Parse(metric)) ?? double.NaN;

    /// <summary>A trial's search point in words: "l2, λ 0.0001, rate 0.9" (λ left out without a regularizer).</summary>
    private static string Settings(TrialParameters p) => p.IsRegularized
        ? string.Create(Invariant, $"{p.Regularizer}, λ {p.Lambda:G6}, rate {p.PruneRate:G6}")
        : string.Create(Invariant, $"{p.Regularizer}, rate {p.PruneRate:G6}");

    /// <summary>A line of means at the points' x (with the spread over the trials behind each, when asked) for one configuration.</summary>
    private static PlotSeries MeanLine(string name, TrialParameters p, IReadOnlyList<(double X, Stats Stats)> points,
        IEnumerable<TrialResult> trials, bool spread) => new()
    {
        Name = name,
        Style = SeriesStyle.Line,
        Regularizer = p.Regularizer,
        PruneMethod = p.PruneMethod,
        Lambda = !p.IsRegularized ? null : p.Lambda,
        PruneRate = !p.IsPruned ? null : p.PruneRate,
        X = points.Select(q => q.X).ToArray(),
        Y = points.Select(q => q.Stats.Mean).ToArray(),
        YMin = spread ? points.Select(q => q.Stats.Min).ToArray() : null,
        YMax = spread ? points.Select(q => q.Stats.Max).ToArray() : null,
        YStd = spread ? points.Select(q => q.Stats.Std).ToArray() : null,
        Count = spread ? points.Select(q => q.Stats.Count).ToArray() : null,
        TrialIds = trials.Select(t => t.TrialId).Order(StringComparer.Ordinal).ToArray(),
    };

    private static string Titled(string title, string what) => string.IsNullOrWhiteSpace(title) ? what : $"{title}: {what}";

    /// <summary>
    /// Sparsities span [0, 1]; accuracy spans [its minimum rounded down to a tenth (at most 0.9), 1], so points are not squashed.
    /// </summary>
    private static PlotAxis YAxis(string metric, IEnumerable<double> values)
    {
        if (metric != "accuracy") return new PlotAxis(Label(metric), AxisScale.Linear, 0, 1);
        double min = values.Where(double.IsFinite).DefaultIfEmpty(0).Min();
        return new PlotAxis("accuracy", AxisScale.Linear, Math.Clamp(Math.Floor(min * 10) / 10, 0, 0.9), 1);
    }

    /// <summary>[lo, hi] widened by a quarter of a decade each side, so points at the ends are not drawn on the frame.</summary>
    private static PlotAxis LogAxis(string label, double lo, double hi)
    {
        double pad = Math.Pow(10, 0.25);
        return new PlotAxis(label, AxisScale.Log, lo / pad, hi * pad);
    }

    private static int Rank(string[] order, string? value)
    {
        int i = Array.IndexOf(order, value);
        return i < 0 ? order.Length : i;
    }

    private static string RegularizerLabel(string regularizer) =>
        regularizer == Vocabularies.Regularizers.Name(RegularizerKind.None) ? "no regularizer" : regularizer;

    /// <summary>A panel: one model (when several are present) and one prune rate (or all rates, or no pruning).</summary>
    private sealed record Facet(string? Model, double? Rate, bool AllRates, string Title)
    {
        public TrialResult[] Members(IEnumerable<TrialResult> trials) => trials.Where(t =>
            (Model is null || t.Params.Model == Model)
            && (AllRates || !t.Params.IsPruned || (Rate is { } r && t.Params.PruneRate == r))).ToArray();
    }

    private sealed record FacetSet(IReadOnlyList<Facet> All, bool ByRate);

    private static FacetSet Facets(IReadOnlyList<TrialResult> trials)
    {
        var models = trials.Select(t => t.Params.Model).Distinct().Order(StringComparer.Ordinal).ToArray();
        bool byModel = models.Length > 1;
        string?[] panelModels = byModel ? [.. models] : [null];
        var pruning = trials.Where(t => t.Params.IsPruned).ToArray();
        bool byRate = pruning.Select(t => t.Params.PruneRate).Distinct().Count() <= MaxRatePanels;
        var facets = new List<Facet>();
        foreach (var model in panelModels)
        {
            string prefix = model is null ? "" : $"{model}, ";
            var rates = pruning.Where(t => model is null || t.Params.Model == model)
                .Select(t => t.Params.PruneRate).Distinct().Order().ToArray();
            if (!byRate) facets.Add(new Facet(model, null, true, $"{prefix}all prune rates"));
            else if (rates.Length == 0) facets.Add(new Facet(model, null, false, $"{prefix}no pruning"));
            else facets.AddRange(rates.Select(r => new Facet(model, r, false, $"{prefix}prune rate {r.ToString("G4", Invariant)}")));
        }
        return new FacetSet(facets, byRate);
    }

    /// <summary>What a legend names besides the regularizer: the parameters whose values differ between the trials.</summary>
    private sealed record Varying(bool Method, bool Rate, IReadOnlyList<TrialParameter> Others)
    {
        public static Varying Of(IReadOnlyList<TrialResult> trials, bool rateIsPanel)
        {
            bool Varies(TrialParameter parameter) => trials.Select(t => parameter.Value(t.Params)).Distinct().Skip(1).Any();
            var method = TrialParameterTable.Find("pruneMethod")!;
            var rate = TrialParameterTable.Find("pruneRate")!;
            return new Varying(Varies(method), !rateIsPanel && Varies(rate),
                TrialParameterTable.All.Where(d => d.Legend is not null && Varies(d)).ToArray());
        }

        /// <summary>E.g. "l1, λ 1e-4, stochastic": the regularizer always, then what varies (the panel's own keys left out).</summary>
        public string Describe(TrialParameters p, bool withLambda)
        {
            var parts = new List<string> { RegularizerLabel(p.Regularizer) };
            if (withLambda && p.IsRegularized) parts.Add($"λ {FormatLambda(p.Lambda)}");
            if (Method) parts.Add(p.IsPruned ? p.PruneMethod : "no pruning");
            if (Rate && p.IsPruned) parts.Add(string.Create(Invariant, $"rate {p.PruneRate:G4}"));
            parts.AddRange(Others.Select(d => d.Legend!(p)));
            return string.Join(", ", parts);
        }
    }

    /// <summary>Mean, min, max, sample standard deviation (n − 1; 0 for one value) and count of some values.</summary>
    private readonly record struct Stats(double Mean, double Min, double Max, double Std, int Count)
    {
        public static Stats Of(IEnumerable<double> values)
        {
            var v = values.ToArray();
            double mean = v.Average();
            double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return new Stats(mean, v.Min(), v.Max(), std, v.Length);
        }
    }

    /// <summary>Series order: regularizer (l1, l2, l1l2, none), prune method, then the numbers, then the seed.</summary>
    private sealed class ParameterOrder : IComparer<TrialParameters>
    {
        public static readonly ParameterOrder Instance = new();

        public int Compare(TrialParameters? x, TrialParameters? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            int c = string.CompareOrdinal(x.Model, y.Model);
            if (c == 0) c = Rank(RegularizerOrder, x.Regularizer).CompareTo(Rank(RegularizerOrder, y.Regularizer));
            if (c == 0) c = string.CompareOrdinal(x.Regularizer, y.Regularizer);
            if (c == 0) c = Rank(MethodOrder, x.PruneMethod).CompareTo(Rank(MethodOrder, y.PruneMethod));
            if (c == 0) c = string.CompareOrdinal(x.PruneMethod, y.PruneMethod);
            if (c == 0) c = x.Lambda.CompareTo(y.Lambda);
            if (c == 0) c = x.PruneRate.CompareTo(y.PruneRate);
            if (c == 0) c = x.Temperature.CompareTo(y.Temperature);
            if (c == 0) c = x.LearningRate.CompareTo(y.LearningRate);
            if (c == 0) c = x.Epochs.CompareTo(y.Epochs);
            if (c == 0) c = x.BatchSize.CompareTo(y.BatchSize);
            if (c == 0) c = x.Momentum.CompareTo(y.Momentum);
            if (c == 0) c = x.Interval.CompareTo(y.Interval);
            if (c == 0) c = x.RampFraction.CompareTo(y.RampFraction);
            if (c == 0) c = x.Seed.CompareTo(y.Seed);
            return c;
        }
    }

    /// <summary>One sweep of a search comparison: its name, its spec (strategy, objectives, reference point) and its results in
    /// the order they were stored.</summary>
    public sealed record SearchRun(string Name, SweepSpec Spec, IReadOnlyList<TrialResult> Results);

    /// <summary>
    /// The search plot: for each sweep, the hypervolume of its main front (left) and of its node front (right) after each
    /// result, against the trial-epochs trained so far (a completed trial counts its epochs, a stopped one those it trained
    /// to its rung). Colour follows the strategy (grid grey, random blue, nsga2 red); early stopping is dashed.
    /// </summary>
    public static PlotFigure Search(IReadOnlyList<SearchRun> runs, string title = "")
    {
        ArgumentNullException.ThrowIfNull(runs);
        var main = new List<PlotSeries>();
        var node = new List<PlotSeries>();
        string objectives = "";
        double most = 1;
        foreach (var run in runs)
        {
            var spec = run.Spec;
            objectives = $"{spec.Objectives[0]} vs {spec.Objectives[1]}";
            var front = new ParetoFront(spec.Objectives[0], spec.Objectives[1]);
            var nodeFront = new ParetoFront("accuracy", "nodeSparsity");
            var nodeReference = Sweep.Core.Sweeps.SweepBook.NodeReference(spec);
            var x = new List<double>();
            var y = new List<double>();
            var yNode = new List<double>();
            double spent = 0;
            foreach (var r in run.Results)
            {
                spent += r.Epochs.Count > 0 ? r.Epochs.Count : r.Status == TrialStatus.Completed ? r.Params.Epochs : 0;
                if (r.Status == TrialStatus.Completed && r.Accuracy is { } a && r.WeightSparsity is { } w && r.NodeSparsity is { } n)
                {
                    var point = new FrontPoint(r.TrialId, r.Params, a, w, n);
                    front.Add(point);
                    nodeFront.Add(point);
                }
                x.Add(spent);
                y.Add(front.ToFront(spec.ReferencePoint).Hypervolume);
                yNode.Add(nodeFront.ToFront(nodeReference).Hypervolume);
            }
            if (x.Count == 0) continue;
            most = Math.Max(most, spent);
            string strategy = Vocabularies.Strategies.Name(spec.Search.Strategy);
            string name = $"{run.Name}: {strategy}{(spec.EarlyStopping is { } es ? $" + {es.Method}" : "")}";
            string colour = spec.Search.Strategy switch
            {
                SearchStrategy.Grid => "#616161",
                SearchStrategy.Random => "#1565c0",
                _ => "#c62828",
            };
            string? dash = spec.EarlyStopping is null ? null : "7 4";
            string[] ids = [.. run.Results.Select(r => r.TrialId)];
            var line = new PlotSeries { Name = name, Style = SeriesStyle.Line, X = x, Y = y, TrialIds = ids, Colour = colour, Dash = dash };
            main.Add(line);
            node.Add(line with { Y = yNode });
        }
        PlotAxis Y(IEnumerable<PlotSeries> series) =>
            new("hypervolume", AxisScale.Linear, 0, Math.Max(1e-9, series.SelectMany(s => s.Y).DefaultIfEmpty(0).Max() * 1.05));
        var xAxis = new PlotAxis("trial-epochs trained", AxisScale.Linear, 0, most);
        return new PlotFigure
        {
            Kind = PlotKind.Search,
            Title = title.Length > 0 ? $"{title}: hypervolume vs trial-epochs trained" : "hypervolume vs trial-epochs trained",
            Trials = runs.Sum(r => r.Results.Count),
            Columns = 2,
            Panels =
            [
                new PlotPanel { Title = $"front ({objectives})", X = xAxis, Y = Y(main), Series = main },
                new PlotPanel { Title = "node front (accuracy vs nodeSparsity)", X = xAxis, Y = Y(node), Series = node },
            ],
        };
    }
}
