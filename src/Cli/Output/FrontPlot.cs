using System.Globalization;
using System.Text;
using Sweep.Core.Models;

namespace Sweep.Cli.Output;

/// <summary>front.svg: accuracy against weight sparsity and against node sparsity, trials in grey, fronts in colour.</summary>
public static class FrontPlot
{
    private const int Width = 1000, Height = 460, PanelWidth = Width / 2;
    // Plot area inside a panel, in pixels: room on the left for tick labels and the y title, below for the x title.
    private const double Left = 72, Right = 24, Top = 92, Bottom = 392;
    private const string TrialColour = "#9e9e9e", FrontColour = "#1565c0", AxisColour = "#333333", GridColour = "#e6e6e6";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// The SVG document of a sweep's fronts: left panel weight sparsity × accuracy with <see cref="FrontReport.Points"/>,
    /// right panel node sparsity × accuracy with the node front. Only completed trials are drawn, each as a circle of
    /// class "trial" per panel (a panel skips a trial whose value there is NaN); front points are circles of class "front"
    /// with a hover title. Sparsity spans [0, 1]; accuracy spans [floor(10·min)/10, 1], so the points are not squashed.
    /// </summary>
    public static string Svg(string title, IReadOnlyList<TrialResult> trials, FrontReport front)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentNullException.ThrowIfNull(front);
        // Completed trials as points: the same shape as the fronts' points (failed trials have no measures).
        var completed = trials.Where(t => t.Status == TrialStatus.Completed)
            .Select(t => new FrontPoint(t.TrialId, t.Params, t.Accuracy ?? double.NaN, t.WeightSparsity ?? double.NaN, t.NodeSparsity ?? double.NaN))
            .ToArray();
        var yMin = AccuracyFloor(completed.Select(t => t.Accuracy).Concat(front.Points.Concat(front.NodeFront.Points).Select(p => p.Accuracy)));

        var svg = new StringBuilder();
        svg.Append(Invariant, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="Helvetica, Arial, sans-serif" font-size="12">""").Append('\n');
        svg.Append(Invariant, $"""  <title>{Escape(title)}</title>""").Append('\n');
        svg.Append(Invariant, $"""  <rect width="{Width}" height="{Height}" fill="white"/>""").Append('\n');
        svg.Append(Invariant, $"""  <text x="{Width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">{Escape(title)}</text>""").Append('\n');
        Legend(svg);

        Panel(svg, 0, "Accuracy vs weight sparsity", "weight sparsity", yMin, completed, t => t.WeightSparsity,
            front.Points, p => p.WeightSparsity, IsStaircase(front.Objectives, "weightSparsity"));
        Panel(svg, PanelWidth, "Accuracy vs node sparsity", "node sparsity", yMin, completed, t => t.NodeSparsity,
            front.NodeFront.Points, p => p.NodeSparsity, IsStaircase(front.NodeFront.Objectives, "nodeSparsity"));

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Legend(StringBuilder svg)
    {
        const double x = Width - 210, y = 48;
        svg.Append(Invariant, $"""  <g class="legend">""").Append('\n');
        svg.Append(Invariant, $"""    <circle cx="{x}" cy="{y}" r="4" fill="{TrialColour}" fill-opacity="0.7"/>""").Append('\n');
        svg.Append(Invariant, $"""    <text x="{x + 10}" y="{y + 4}">trials</text>""").Append('\n');
        svg.Append(Invariant, $"""    <line x1="{x + 70}" y1="{y}" x2="{x + 96}" y2="{y}" stroke="{FrontColour}" stroke-width="1.5"/>""").Append('\n');
        svg.Append(Invariant, $"""    <circle cx="{x + 83}" cy="{y}" r="5" fill="{FrontColour}"/>""").Append('\n');
        svg.Append(Invariant, $"""    <text x="{x + 104}" y="{y + 4}">Pareto front</text>""").Append('\n');
        svg.Append("  </g>\n");
    }

    private static void Panel(StringBuilder svg, double offset, string panelTitle, string xTitle, double yMin,
        IReadOnlyList<FrontPoint> trials, Func<FrontPoint, double> trialX,
        IReadOnlyList<FrontPoint> frontPoints, Func<FrontPoint, double> frontX, bool staircase)
    {
        double x0 = offset + Left, x1 = offset + PanelWidth - Right;
        double Px(double v) => x0 + Math.Clamp(v, 0, 1) * (x1 - x0);
        double Py(double v) => Bottom - (Math.Clamp(v, yMin, 1) - yMin) / (1 - yMin) * (Bottom - Top);

        svg.Append(Invariant, $"""  <g class="panel">""").Append('\n');
        svg.Append(Invariant, $"""    <text x="{N((x0 + x1) / 2)}" y="{Top - 14}" text-anchor="middle" font-size="14">{Escape(panelTitle)}</text>""").Append('\n');

        // Ticks every 0.2 on sparsity; on accuracy a step that gives at most 10 intervals over [yMin, 1].
        for (int i = 0; i <= 5; i++)
        {
            var v = i / 5.0;
            var px = N(Px(v));
            svg.Append(Invariant, $"""    <line x1="{px}" y1="{Top}" x2="{px}" y2="{Bottom}" stroke="{GridColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <line x1="{px}" y1="{Bottom}" x2="{px}" y2="{Bottom + 5}" stroke="{AxisColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <text x="{px}" y="{Bottom + 18}" text-anchor="middle">{N(v)}</text>""").Append('\n');
        }
        var step = new[] { 0.02, 0.05, 0.1, 0.2 }.First(s => (1 - yMin) / s <= 10 + 1e-9);
        var count = (int)Math.Round((1 - yMin) / step);
        for (int i = 0; i <= count; i++)
        {
            var v = Math.Round(yMin + i * step, 6);
            var py = N(Py(v));
            svg.Append(Invariant, $"""    <line x1="{N(x0)}" y1="{py}" x2="{N(x1)}" y2="{py}" stroke="{GridColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <line x1="{N(x0 - 5)}" y1="{py}" x2="{N(x0)}" y2="{py}" stroke="{AxisColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <text x="{N(x0 - 8)}" y="{N(Py(v) + 4)}" text-anchor="end">{N(v)}</text>""").Append('\n');
        }
        svg.Append(Invariant, $"""    <line x1="{N(x0)}" y1="{Bottom}" x2="{N(x1)}" y2="{Bottom}" stroke="{AxisColour}"/>""").Append('\n');
        svg.Append(Invariant, $"""    <line x1="{N(x0)}" y1="{Top}" x2="{N(x0)}" y2="{Bottom}" stroke="{AxisColour}"/>""").Append('\n');
        svg.Append(Invariant, $"""    <text x="{N((x0 + x1) / 2)}" y="{Bottom + 44}" text-anchor="middle" font-size="13">{Escape(xTitle)}</text>""").Append('\n');
        svg.Append(Invariant, $"""    <text x="{N(offset + 22)}" y="{N((Top + Bottom) / 2)}" text-anchor="middle" font-size="13" transform="rotate(-90 {N(offset + 22)} {N((Top + Bottom) / 2)})">accuracy</text>""").Append('\n');

        foreach (var t in trials)
        {
            var x = trialX(t);
            if (double.IsNaN(x) || double.IsNaN(t.Accuracy)) continue;
            svg.Append(Invariant, $"""    <circle class="trial" cx="{N(Px(x))}" cy="{N(Py(t.Accuracy))}" r="3.5" fill="{TrialColour}" fill-opacity="0.7"><title>{Escape(Describe(t.TrialId, t.Params, t.Accuracy, t.WeightSparsity, t.NodeSparsity))}</title></circle>""").Append('\n');
        }

        var shown = frontPoints.Where(p => !double.IsNaN(frontX(p)) && !double.IsNaN(p.Accuracy))
            .OrderBy(frontX).ThenByDescending(p => p.Accuracy).ToArray();
        if (shown.Length > 1)
        {
            // A front in these axes is drawn as its attainment staircase; points of another front are simply joined.
            var d = new StringBuilder().Append(Invariant, $"M {N(Px(frontX(shown[0])))} {N(Py(shown[0].Accuracy))}");
            foreach (var p in shown.Skip(1))
            {
                if (staircase) d.Append(Invariant, $" V {N(Py(p.Accuracy))} H {N(Px(frontX(p)))}");
                else d.Append(Invariant, $" L {N(Px(frontX(p)))} {N(Py(p.Accuracy))}");
            }
            svg.Append(Invariant, $"""    <path d="{d}" fill="none" stroke="{FrontColour}" stroke-width="1.5"/>""").Append('\n');
        }
        foreach (var p in shown)
            svg.Append(Invariant, $"""    <circle class="front" cx="{N(Px(frontX(p)))}" cy="{N(Py(p.Accuracy))}" r="5" fill="{FrontColour}" stroke="white" stroke-width="1"><title>{Escape(Describe(p.TrialId, p.Params, p.Accuracy, p.WeightSparsity, p.NodeSparsity))}</title></circle>""").Append('\n');
        svg.Append("  </g>\n");
    }

    /// <summary>The bottom of the accuracy axis: the data's minimum rounded down to a tenth, within [0, 0.9].</summary>
    private static double AccuracyFloor(IEnumerable<double> accuracies)
    {
        var min = accuracies.Where(double.IsFinite).DefaultIfEmpty(0).Min();
        return Math.Clamp(Math.Floor(min * 10) / 10, 0, 0.9);
    }

    /// <summary>Whether a front's objectives are exactly accuracy and this panel's sparsity, so a staircase is its true shape.</summary>
    private static bool IsStaircase(IReadOnlyList<string> objectives, string sparsity) =>
        objectives.Count == 2 && objectives.Contains("accuracy") && objectives.Contains(sparsity);

    private static string Describe(string trialId, TrialParameters p, double accuracy, double weightSparsity, double nodeSparsity) =>
        string.Create(Invariant,
            $"{p.Regularizer}, λ {p.Lambda:G6}, rate {p.PruneRate:G6}: accuracy {accuracy:0.####}, weight sparsity {weightSparsity:0.####}, node sparsity {nodeSparsity:0.####} ({trialId})");

    private static string N(double v) => SvgText.N(v);

    private static string Escape(string? text) => SvgText.Escape(text);
}
