using Sweep.Core;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sweep.Grains;

namespace Sweep.Cli.Output;

/// <summary>The plots `sweep plot` draws.</summary>
public enum PlotKind
{
    /// <summary>A per-epoch measure (node sparsity by default) against the epoch, one line per configuration or trial.</summary>
    Dynamics,
    /// <summary>Accuracy against weight sparsity and against node sparsity: every trial a point, the non-dominated ones joined.</summary>
    Front,
    /// <summary>Final accuracy and node sparsity against λ (log axis), one line per regularizer and prune method.</summary>
    Lambda,
    /// <summary>The fraction of dead nodes (units, filters) of each hidden layer at the end, one line per configuration.</summary>
    Layers,
    /// <summary>Hypervolume of both fronts against the trial-epochs trained, one line per sweep (its strategy).</summary>
    Search,
}

/// <summary>How a series is drawn.</summary>
public enum SeriesStyle
{
    /// <summary>Points joined in x order (a mean curve; error values, when present, are the spread over seeds).</summary>
    Line,
    /// <summary>Unjoined points, one per trial.</summary>
    Points,
    /// <summary>A Pareto front: its points joined as the attainment staircase (both objectives maximized).</summary>
    Front,
    /// <summary>
    /// A reference level that does not depend on x (e.g. unregularized trials on a λ axis): a horizontal line across the panel.
    /// </summary>
    Baseline,
}

/// <summary>The scale of an axis.</summary>
public enum AxisScale
{
    /// <summary>Evenly spaced values.</summary>
    Linear,
    /// <summary>Evenly spaced decades (values must be &gt; 0).</summary>
    Log,
}

/// <summary>One axis of a panel: its title, scale and the range it spans.</summary>
/// <param name="Label">The axis title, e.g. "node sparsity" or "λ".</param>
/// <param name="Scale">Linear or log.</param>
/// <param name="Min">The low end of the axis.</param>
/// <param name="Max">The high end of the axis.</param>
/// <param name="IntegerTicks">Whether tick marks fall on whole numbers only (epochs).</param>
public sealed record PlotAxis(string Label, AxisScale Scale, double Min, double Max, bool IntegerTicks = false);

/// <summary>
/// One line or set of points: parallel lists of x and y values, with the spread behind each y when it is a mean over
/// several trials. The optional parameters say which configuration the series shows (null when it spans several values).
/// </summary>
public sealed record PlotSeries
{
    /// <summary>The legend label, e.g. "l1, λ 1e-4, stochastic".</summary>
    public string Name { get; init; } = "";
    /// <summary>How the series is drawn.</summary>
    public SeriesStyle Style { get; init; }
    /// <summary>The regularizer of every trial in the series (it picks the colour), or null when mixed.</summary>
    public string? Regularizer { get; init; }
    /// <summary>The prune method of every trial in the series (it picks the dash pattern), or null when mixed.</summary>
    public string? PruneMethod { get; init; }
    /// <summary>
    /// The λ of every trial in the series, or null when it varies along the series or is meaningless (regularizer none).
    /// </summary>
    public double? Lambda { get; init; }
    /// <summary>The prune rate of every trial in the series, or null when mixed or meaningless (prune method none).</summary>
    public double? PruneRate { get; init; }
    /// <summary>The x values, ascending for lines.</summary>
    public IReadOnlyList<double> X { get; init; } = [];
    /// <summary>The y values: a trial's value, or the mean over the trials at that x.</summary>
    public IReadOnlyList<double> Y { get; init; } = [];
    /// <summary>The smallest value behind each y (null when every y is a single trial's value).</summary>
    public IReadOnlyList<double>? YMin { get; init; }
    /// <summary>The largest value behind each y (null when every y is a single trial's value).</summary>
    public IReadOnlyList<double>? YMax { get; init; }
    /// <summary>
    /// The sample standard deviation (n − 1) behind each y; 0 where one trial gives it (null when every y is a single trial's value).
    /// </summary>
    public IReadOnlyList<double>? YStd { get; init; }
    /// <summary>How many trials are behind each y (null when every y is a single trial's value).</summary>
    public IReadOnlyList<int>? Count { get; init; }
    /// <summary>
    /// The trials behind the series: for <see cref="SeriesStyle.Points"/> and <see cref="SeriesStyle.Front"/> one per point,
    /// in point order; otherwise every trial the series averages, ordered by id.
    /// </summary>
    public IReadOnlyList<string> TrialIds { get; init; } = [];
    /// <summary>
    /// For <see cref="SeriesStyle.Points"/> and <see cref="SeriesStyle.Front"/> of the front plot: each point's trial
    /// settings in words ("l2, λ 0.0001, rate 0.9"), shown on hover; null elsewhere.
    /// </summary>
    public IReadOnlyList<string>? PointLabels { get; init; }
    /// <summary>A colour of its own ("#rrggbb"), instead of the regularizer's.</summary>
    public string? Colour { get; init; }
    /// <summary>A dash pattern of its own (SVG stroke-dasharray), instead of the prune method's.</summary>
    public string? Dash { get; init; }
}

/// <summary>One panel: two axes and the series drawn in them.</summary>
public sealed record PlotPanel
{
    /// <summary>The panel's title, e.g. "prune rate 0.9".</summary>
    public string Title { get; init; } = "";
    /// <summary>The horizontal axis.</summary>
    public PlotAxis X { get; init; } = new("", AxisScale.Linear, 0, 1);
    /// <summary>The vertical axis.</summary>
    public PlotAxis Y { get; init; } = new("", AxisScale.Linear, 0, 1);
    /// <summary>The series, in drawing and legend order.</summary>
    public IReadOnlyList<PlotSeries> Series { get; init; } = [];
}

/// <summary>
/// The data behind one plot: panels laid out row by row, <see cref="Columns"/> to a row. <see cref="PlotData"/> builds
/// it from trial results, <see cref="PlotSvg"/> draws it, and <see cref="ToJson"/> is the machine-readable form
/// `sweep plot` writes next to the SVG.
/// </summary>
public sealed record PlotFigure
{
    private static readonly JsonSerializerOptions JsonOptions = new(SweepJson.Indented)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A file, not HTML: write λ and – as themselves.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Which plot this is.</summary>
    public PlotKind Kind { get; init; }
    /// <summary>The figure's title.</summary>
    public string Title { get; init; } = "";
    /// <summary>The per-epoch or final measure on the y axis of a dynamics plot; null for the others.</summary>
    public string? Metric { get; init; }
    /// <summary>How many completed trials the figure was built from.</summary>
    public int Trials { get; init; }
    /// <summary>Panels per row.</summary>
    public int Columns { get; init; } = 1;
    /// <summary>The panels, row by row.</summary>
    public IReadOnlyList<PlotPanel> Panels { get; init; } = [];

    /// <summary>The figure as indented JSON (camelCase names, enums as camelCase strings, null fields left out).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions) + "\n";

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    /// <exception cref="JsonException">The text is not a plot's JSON.</exception>
    public static PlotFigure FromJson(string json) =>
        JsonSerializer.Deserialize<PlotFigure>(json, JsonOptions) ?? throw new JsonException("null is not a plot");
}
