using System.Globalization;
using System.Text;
using static Sweep.Cli.Output.SvgText;

namespace Sweep.Cli.Output;

/// <summary>
/// Draws a <see cref="PlotFigure"/> as a self-contained SVG document: a title, the panels in a grid (axes with ticks,
/// grid lines and titles) and one legend on the right. Every series is one <c>&lt;g class="series"&gt;</c> whose
/// <c>data-name</c> is the series name, holding exactly one <c>&lt;path&gt;</c> for lines, baselines and fronts (points
/// have none) and one circle per point for points and fronts; λ lines also get a marker and a min–max bar per point.
/// Colour follows the regularizer (l1 red, l2 blue, l1l2 green, none grey; fronts black), the dash the prune method
/// (stochastic solid, magnitude dashed, none dotted); on a dynamics plot a smaller λ is a lighter shade.
/// </summary>
public static class PlotSvg
{
    private const double PanelWidth = 420, PanelHeight = 320, TitleHeight = 48, LegendWidth = 270, LegendRow = 18;
    // The plot area inside a panel: room on the left for tick labels and the y title, below for the x title.
    private const double Left = 64, Right = 18, Top = 40, Bottom = 56;
    private const int MaxLegendEntries = 40;
    private const string AxisColour = "#333333", GridColour = "#e6e6e6", FrontColour = "#212121";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The SVG document of <paramref name="figure"/>.</summary>
    public static string Render(PlotFigure figure)
    {
        ArgumentNullException.ThrowIfNull(figure);
        int columns = Math.Max(1, figure.Columns);
        int rows = Math.Max(1, (figure.Panels.Count + columns - 1) / columns);
        var legend = LegendEntries(figure);
        int legendRows = Math.Min(legend.Count, MaxLegendEntries) + (legend.Count > MaxLegendEntries ? 1 : 0);
        double width = columns * PanelWidth + LegendWidth;
        double height = Math.Max(TitleHeight + rows * PanelHeight + 8, TitleHeight + 40 + legendRows * LegendRow + 16);
        var shades = Shades(figure);

        var svg = new StringBuilder();
        svg.Append(Invariant, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{N(width)}" height="{N(height)}" """)
            .Append(Invariant, $"""viewBox="0 0 {N(width)} {N(height)}" font-family="Helvetica, Arial, sans-serif" font-size="12">""")
            .Append('\n');
        svg.Append(Invariant, $"""  <title>{Escape(figure.Title)}</title>""").Append('\n');
        svg.Append(Invariant, $"""  <rect width="{N(width)}" height="{N(height)}" fill="white"/>""").Append('\n');
        svg.Append(Invariant, $"""  <text x="{N(width / 2)}" y="28" text-anchor="middle" font-size="16" font-weight="bold">""")
            .Append(Invariant, $"""{Escape(figure.Title)}</text>""").Append('\n');
        for (int i = 0; i < figure.Panels.Count; i++)
            Panel(svg, figure, figure.Panels[i], (i % columns) * PanelWidth, TitleHeight + (i / columns) * PanelHeight, shades);
        Legend(svg, legend, columns * PanelWidth + 10, TitleHeight + 24, shades);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, PlotFigure figure, PlotPanel panel, double ox, double oy,
        IReadOnlyDictionary<(string?, double?), double> shades)
    {
        double x0 = ox + Left, x1 = ox + PanelWidth - Right, y0 = oy + Top, y1 = oy + PanelHeight - Bottom;
        double Px(double v) => x0 + Fraction(panel.X, v) * (x1 - x0);
        double Py(double v) => y1 - Fraction(panel.Y, v) * (y1 - y0);

        svg.Append(Invariant, $"""  <g class="panel" data-title="{Escape(panel.Title)}">""").Append('\n');
        svg.Append(Invariant, $"""    <text x="{N((x0 + x1) / 2)}" y="{N(y0 - 14)}" text-anchor="middle" font-size="14">""")
            .Append(Invariant, $"""{Escape(panel.Title)}</text>""").Append('\n');

        foreach (var (v, label) in Ticks(panel.X))
        {
            string px = N(Px(v));
            if (label is null)
            {
                svg.Append(Invariant, $"""    <line x1="{px}" y1="{N(y1)}" x2="{px}" y2="{N(y1 + 3)}" stroke="{AxisColour}"/>""")
                    .Append('\n');
                continue;
            }
            svg.Append(Invariant, $"""    <line x1="{px}" y1="{N(y0)}" x2="{px}" y2="{N(y1)}" stroke="{GridColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <line x1="{px}" y1="{N(y1)}" x2="{px}" y2="{N(y1 + 5)}" stroke="{AxisColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <text x="{px}" y="{N(y1 + 18)}" text-anchor="middle">{Escape(label)}</text>""").Append('\n');
        }
        foreach (var (v, label) in Ticks(panel.Y))
        {
            string py = N(Py(v));
            if (label is null)
            {
                svg.Append(Invariant, $"""    <line x1="{N(x0 - 3)}" y1="{py}" x2="{N(x0)}" y2="{py}" stroke="{AxisColour}"/>""")
                    .Append('\n');
                continue;
            }
            svg.Append(Invariant, $"""    <line x1="{N(x0)}" y1="{py}" x2="{N(x1)}" y2="{py}" stroke="{GridColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <line x1="{N(x0 - 5)}" y1="{py}" x2="{N(x0)}" y2="{py}" stroke="{AxisColour}"/>""").Append('\n');
            svg.Append(Invariant, $"""    <text x="{N(x0 - 8)}" y="{N(Py(v) + 4)}" text-anchor="end">{Escape(label)}</text>""")
                .Append('\n');
        }
        svg.Append(Invariant, $"""    <line x1="{N(x0)}" y1="{N(y1)}" x2="{N(x1)}" y2="{N(y1)}" stroke="{AxisColour}"/>""").Append('\n');
        svg.Append(Invariant, $"""    <line x1="{N(x0)}" y1="{N(y0)}" x2="{N(x0)}" y2="{N(y1)}" stroke="{AxisColour}"/>""").Append('\n');
        svg.Append(Invariant, $"""    <text x="{N((x0 + x1) / 2)}" y="{N(y1 + 40)}" text-anchor="middle" font-size="13">""")
            .Append(Invariant, $"""{Escape(panel.X.Label)}</text>""").Append('\n');
        double ty = (y0 + y1) / 2, tx = ox + 18;
        svg.Append(Invariant, $"""    <text x="{N(tx)}" y="{N(ty)}" text-anchor="middle" font-size="13" """)
            .Append(Invariant, $"""transform="rotate(-90 {N(tx)} {N(ty)})">{Escape(panel.Y.Label)}</text>""").Append('\n');

        foreach (var s in panel.Series) Series(svg, figure.Kind, panel, s, Px, Py, shades);
        svg.Append("  </g>\n");
    }

    private static void Series(StringBuilder svg, PlotKind kind, PlotPanel panel, PlotSeries s, Func<double, double> px,
        Func<double, double> py, IReadOnlyDictionary<(string?, double?), double> shades)
    {
        string colour = Colour(s, shades);
        string dash = Dash(s) is { } d ? $" stroke-dasharray=\"{d}\"" : "";
        int n = Math.Min(s.X.Count, s.Y.Count);
        svg.Append(Invariant, $"""    <g class="series" data-name="{Escape(s.Name)}" """)
            .Append(Invariant, $"""data-style="{s.Style.ToString().ToLowerInvariant()}">""").Append('\n');
        switch (s.Style)
        {
            case SeriesStyle.Points:
                for (int i = 0; i < n; i++)
                    svg.Append(Invariant, $"""      <circle class="point" cx="{N(px(s.X[i]))}" cy="{N(py(s.Y[i]))}" r="3.5" """)
                        .Append(Invariant, $"""fill="{colour}" fill-opacity="0.75"><title>{Escape(Hover(panel, s, i))}</title></circle>""")
                        .Append('\n');
                break;
            case SeriesStyle.Front:
            {
                // The attainment staircase of a front whose two objectives are both maximized.
                var path = new StringBuilder();
                for (int i = 0; i < n; i++)
                {
                    if (i == 0) path.Append(Invariant, $"M {N(px(s.X[0]))} {N(py(s.Y[0]))}");
                    else path.Append(Invariant, $" V {N(py(s.Y[i]))} H {N(px(s.X[i]))}");
                }
                svg.Append(Invariant, $"""      <path class="line" d="{path}" fill="none" stroke="{FrontColour}" stroke-width="1.5"/>""")
                    .Append('\n');
                for (int i = 0; i < n; i++)
                    svg.Append(Invariant, $"""      <circle class="front" cx="{N(px(s.X[i]))}" cy="{N(py(s.Y[i]))}" r="4.5" """)
                        .Append(Invariant, $"""fill="none" stroke="{FrontColour}" stroke-width="1.5">""")
                        .Append(Invariant, $"""<title>{Escape(Hover(panel, s, i))}</title></circle>""").Append('\n');
                break;
            }
            case SeriesStyle.Baseline:
            {
                if (n > 0 && s.YMin is { Count: > 0 } lo && s.YMax is { Count: > 0 } hi && hi[0] > lo[0])
                {
                    double left = px(s.X[0]), right = px(s.X[n - 1]), top = py(hi[0]), bottom = py(lo[0]);
                    svg.Append(Invariant, $"""      <rect class="band" x="{N(left)}" y="{N(top)}" width="{N(right - left)}" """)
                        .Append(Invariant, $"""height="{N(bottom - top)}" fill="{colour}" fill-opacity="0.12"/>""").Append('\n');
                }
                svg.Append(Invariant, $"""      <path class="line" d="{Polyline(s, n, px, py)}" fill="none" stroke="{colour}" """)
                    .Append(Invariant, $"""stroke-width="1.6"{dash}><title>{Escape(n > 0 ? Hover(panel, s, 0) : s.Name)}</title></path>""")
                    .Append('\n');
                break;
            }
            default:
                svg.Append(Invariant, $"""      <path class="line" d="{Polyline(s, n, px, py)}" fill="none" stroke="{colour}" """)
                    .Append(Invariant, $"""stroke-width="1.6"{dash}/>""").Append('\n');
                if (kind != PlotKind.Dynamics)
                {
                    for (int i = 0; i < n; i++)
                    {
                        if (s.YMin is { } lo && s.YMax is { } hi && i < lo.Count && i < hi.Count && hi[i] > lo[i])
                        {
                            string x = N(px(s.X[i]));
                            svg.Append(Invariant, $"""      <line class="error" x1="{x}" y1="{N(py(lo[i]))}" """)
                                .Append(Invariant, $"""x2="{x}" y2="{N(py(hi[i]))}" stroke="{colour}" stroke-width="1"/>""").Append('\n');
                        }
                        svg.Append(Invariant, $"""      <circle class="marker" cx="{N(px(s.X[i]))}" cy="{N(py(s.Y[i]))}" r="3" """)
                            .Append(Invariant, $"""fill="{colour}"><title>{Escape(Hover(panel, s, i))}</title></circle>""").Append('\n');
                    }
                }
                break;
        }
        svg.Append("    </g>\n");
    }

    private static string Polyline(PlotSeries s, int n, Func<double, double> px, Func<double, double> py)
    {
        var d = new StringBuilder();
        for (int i = 0; i < n; i++) d.Append(Invariant, $"{(i == 0 ? "M" : " L")} {N(px(s.X[i]))} {N(py(s.Y[i]))}");
        return d.ToString();
    }

    private static string Hover(PlotPanel panel, PlotSeries s, int i)
    {
        string x = panel.X.Scale == AxisScale.Log ? PlotData.FormatLambda(s.X[i]) : s.X[i].ToString("0.####", Invariant);
        if (s.PointLabels is { } labels && i < labels.Count && i < s.TrialIds.Count)
            return string.Create(Invariant, $"{labels[i]}: {panel.X.Label} {x}, {panel.Y.Label} {s.Y[i]:0.####} ({s.TrialIds[i]})");
        var text = new StringBuilder(s.Style is SeriesStyle.Points or SeriesStyle.Front && i < s.TrialIds.Count
            ? $"{s.TrialIds[i]} ({s.Name})"
            : s.Name);
        text.Append(Invariant, $": {panel.X.Label} {x}, {panel.Y.Label} {s.Y[i]:0.####}");
        if (s.YMin is { } lo && s.YMax is { } hi && s.Count is { } count && i < lo.Count && i < hi.Count && i < count.Count)
            text.Append(Invariant, $" (min {lo[i]:0.####}, max {hi[i]:0.####}, n {count[i]})");
        return text.ToString();
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<PlotSeries> entries, double x, double y,
        IReadOnlyDictionary<(string?, double?), double> shades)
    {
        svg.Append("  <g class=\"legend\">\n");
        for (int i = 0; i < Math.Min(entries.Count, MaxLegendEntries); i++)
        {
            var s = entries[i];
            double cy = y + i * LegendRow;
            string colour = Colour(s, shades);
            switch (s.Style)
            {
                case SeriesStyle.Points:
                    svg.Append(Invariant, $"""    <circle cx="{N(x + 12)}" cy="{N(cy)}" r="4" fill="{colour}" fill-opacity="0.75"/>""")
                        .Append('\n');
                    break;
                case SeriesStyle.Front:
                    svg.Append(Invariant, $"""    <line x1="{N(x)}" y1="{N(cy)}" x2="{N(x + 24)}" y2="{N(cy)}" """)
                        .Append(Invariant, $"""stroke="{FrontColour}" stroke-width="1.5"/>""").Append('\n');
                    svg.Append(Invariant, $"""    <circle cx="{N(x + 12)}" cy="{N(cy)}" r="4.5" fill="white" """)
                        .Append(Invariant, $"""stroke="{FrontColour}" stroke-width="1.5"/>""").Append('\n');
                    break;
                default:
                    string dash = Dash(s) is { } d ? $" stroke-dasharray=\"{d}\"" : "";
                    svg.Append(Invariant, $"""    <line x1="{N(x)}" y1="{N(cy)}" x2="{N(x + 24)}" y2="{N(cy)}" """)
                        .Append(Invariant, $"""stroke="{colour}" stroke-width="2"{dash}/>""").Append('\n');
                    break;
            }
            svg.Append(Invariant, $"""    <text x="{N(x + 32)}" y="{N(cy + 4)}">{Escape(s.Name)}</text>""").Append('\n');
        }
        if (entries.Count > MaxLegendEntries)
            svg.Append(Invariant, $"""    <text x="{N(x + 32)}" y="{N(y + MaxLegendEntries * LegendRow + 4)}">""")
                .Append(Invariant, $"""… and {entries.Count - MaxLegendEntries} more</text>""").Append('\n');
        svg.Append("  </g>\n");
    }

    /// <summary>One legend entry per distinct name and style, in the order the panels first show them.</summary>
    private static List<PlotSeries> LegendEntries(PlotFigure figure) =>
        figure.Panels.SelectMany(p => p.Series).DistinctBy(s => (s.Name, s.Style)).ToList();

    /// <summary>
    /// On a dynamics plot, how far each (regularizer, λ) line is lightened toward white: 0 for the largest λ of its regularizer,
    /// up to 0.6 for the smallest.
    /// </summary>
    private static Dictionary<(string?, double?), double> Shades(PlotFigure figure)
    {
        var shades = new Dictionary<(string?, double?), double>();
        if (figure.Kind != PlotKind.Dynamics) return shades;
        foreach (var byRegularizer in figure.Panels.SelectMany(p => p.Series).Where(s => s.Lambda is not null).GroupBy(s => s.Regularizer))
        {
            var lambdas = byRegularizer.Select(s => s.Lambda!.Value).Distinct().Order().ToArray();
            for (int i = 0; i < lambdas.Length; i++)
                shades[(byRegularizer.Key, lambdas[i])] = lambdas.Length == 1 ? 0 : 0.6 * (lambdas.Length - 1 - i) / (lambdas.Length - 1);
        }
        return shades;
    }

    private static string Colour(PlotSeries s, IReadOnlyDictionary<(string?, double?), double> shades)
    {
        if (s.Style == SeriesStyle.Front) return FrontColour;
        if (s.Colour is { } own) return own;
        var (r, g, b) = s.Regularizer switch
        {
            "l1" => (0xc6, 0x28, 0x28),
            "l2" => (0x15, 0x65, 0xc0),
            "l1l2" => (0x2e, 0x7d, 0x32),
            "none" => (0x61, 0x61, 0x61),
            _ => (0x6a, 0x1b, 0x9a),
        };
        double t = shades.TryGetValue((s.Regularizer, s.Lambda), out var shade) ? shade : 0;
        int Mix(int c) => (int)Math.Round(c + (255 - c) * t);
        return $"#{Mix(r):x2}{Mix(g):x2}{Mix(b):x2}";
    }

    private static string? Dash(PlotSeries s) => s.Dash ?? s.PruneMethod switch
    {
        "magnitude" => "7 4",
        "none" => "2 3",
        _ => null,
    };

    /// <summary>Where <paramref name="v"/> falls along the axis, 0 at its low end and 1 at its high end, clamped to the axis.</summary>
    private static double Fraction(PlotAxis axis, double v)
    {
        double f = axis.Scale == AxisScale.Log
            ? (Math.Log10(Math.Max(v, double.Epsilon)) - Math.Log10(axis.Min)) / (Math.Log10(axis.Max) - Math.Log10(axis.Min))
            : (v - axis.Min) / (axis.Max - axis.Min);
        return double.IsFinite(f) ? Math.Clamp(f, 0, 1) : 0;
    }

    /// <summary>
    /// The ticks drawn on an axis: positions with their labels (null: a minor tick, unlabelled). Linear: a step of 1, 2, 2.5 or 5 × 10^k
    /// giving at most 8 intervals (whole numbers only for integer axes). Log: every decade labelled (1e-4), 2–9 × each decade minor.
    /// </summary>
    public static IReadOnlyList<(double Value, string? Label)> Ticks(PlotAxis axis)
    {
        var ticks = new List<(double, string?)>();
        if (!(axis.Max > axis.Min)) return ticks;
        if (axis.Scale == AxisScale.Log)
        {
            int a = (int)Math.Floor(Math.Log10(axis.Min) + 1e-9), b = (int)Math.Ceiling(Math.Log10(axis.Max) - 1e-9);
            for (int k = a; k <= b; k++)
            {
                double decade = Math.Pow(10, k);
                if (decade >= axis.Min * (1 - 1e-9) && decade <= axis.Max * (1 + 1e-9))
                    ticks.Add((decade, k == 0 ? "1" : $"1e{k.ToString(Invariant)}"));
                for (int m = 2; m <= 9 && k < b; m++)
                {
                    double minor = m * decade;
                    if (minor > axis.Min && minor < axis.Max) ticks.Add((minor, null));
                }
            }
            return ticks;
        }
        double span = axis.Max - axis.Min;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(span / 8)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => span / s <= 8 + 1e-9);
        if (axis.IntegerTicks) step = Math.Max(1, Math.Ceiling(step));
        double first = Math.Ceiling(axis.Min / step - 1e-9) * step;
        for (double v = first; v <= axis.Max + step * 1e-9; v += step)
        {
            double value = Math.Round(v, 10);
            if (value == 0) value = 0;   // a -0 would be labelled "-0"
            ticks.Add((value, value.ToString("0.###", Invariant)));
        }
        return ticks;
    }
}
