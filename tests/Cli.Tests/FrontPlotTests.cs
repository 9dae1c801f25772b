using System.Xml.Linq;
using Sweep.Cli.Output;
using Sweep.Core.Models;
using Sweep.Core.Pareto;
using Xunit;

namespace Sweep.Cli.Tests;

public sealed class FrontPlotTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static TrialResult Trial(string id, double accuracy, double weightSparsity, double nodeSparsity,
        TrialStatus status = TrialStatus.Completed) => new()
    {
        TrialId = id,
        SweepId = "s",
        Status = status,
        Params = new TrialParameters { Regularizer = id.StartsWith('a') ? "l1" : "l2", Lambda = 1e-4, PruneRate = weightSparsity },
        Accuracy = accuracy,
        WeightSparsity = weightSparsity,
        NodeSparsity = nodeSparsity,
    };

    private static readonly TrialResult[] Trials =
    [
        Trial("a1", 0.94, 0.5, 0.02),
        Trial("a2", 0.93, 0.7, 0.05),
        Trial("a3", 0.91, 0.9, 0.15),
        Trial("b1", 0.95, 0.5, 0.01),
        Trial("b2", 0.90, 0.8, 0.20),
        Trial("b3", 0.62, 0.95, 0.35),
        Trial("f1", 0.10, 0.0, 0.0, TrialStatus.Failed),
    ];

    private static FrontReport Report(IReadOnlyList<TrialResult> trials)
    {
        var points = trials.Where(t => t.Status == TrialStatus.Completed)
            .Select(t => new FrontPoint(t.TrialId, t.Params, t.Accuracy!.Value, t.WeightSparsity!.Value, t.NodeSparsity!.Value)).ToArray();
        var main = new ParetoFront("accuracy", "weightSparsity");
        var node = new ParetoFront("accuracy", "nodeSparsity");
        foreach (var p in points) { main.Add(p); node.Add(p); }
        var f = main.ToFront([0, 0]);
        return new FrontReport
        {
            SweepId = "s", Objectives = f.Objectives, ReferencePoint = f.ReferencePoint, Hypervolume = f.Hypervolume,
            Points = f.Points, NodeFront = node.ToFront([0, 0]),
        };
    }

    private static IEnumerable<XElement> Circles(XDocument doc, string cls) =>
        doc.Descendants(Svg + "circle").Where(c => (string?)c.Attribute("class") == cls);

    [Fact]
    public void The_plot_is_well_formed_svg_with_both_axis_titles_and_a_legend()
    {
        var doc = XDocument.Parse(FrontPlot.Svg("mnist-grid", Trials));
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        Assert.Contains("weight sparsity", texts);
        Assert.Contains("node sparsity", texts);
        Assert.Contains("accuracy", texts);
        Assert.Contains("l1", texts);   // the legend: one entry per regularizer, then the front
        Assert.Contains("l2", texts);
        Assert.Contains("Pareto front", texts);
        Assert.Contains("mnist-grid: Pareto fronts of accuracy and sparsity", texts);
        Assert.Contains("0.2", texts);   // a sparsity tick label
    }

    [Fact]
    public void Every_completed_trial_is_one_point_in_each_panel()
    {
        var doc = XDocument.Parse(FrontPlot.Svg("t", Trials));
        var completed = Trials.Count(t => t.Status == TrialStatus.Completed);
        Assert.Equal(2 * completed, Circles(doc, "point").Count());
    }

    [Fact]
    public void Every_point_of_both_fronts_is_one_front_circle_with_its_parameters_on_hover()
    {
        var report = Report(Trials);
        Assert.True(report.Points.Count > 1 && report.NodeFront.Points.Count > 1);
        var doc = XDocument.Parse(FrontPlot.Svg("t", Trials));
        var front = Circles(doc, "front").ToArray();
        Assert.Equal(report.Points.Count + report.NodeFront.Points.Count, front.Length);
        Assert.All(front, c =>
        {
            var hover = c.Element(Svg + "title")!.Value;
            Assert.Contains("λ 0.0001", hover);
            Assert.Contains("rate ", hover);
            Assert.Matches("^l[12], ", hover);
            Assert.Matches(@"\([ab][123]\)$", hover);   // the trial id
        });
        Assert.Equal(2, doc.Descendants(Svg + "path").Count());   // one line per front
    }

    [Fact]
    public void Numbers_use_the_invariant_culture_even_under_a_comma_culture()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            // The build runs in invariant-globalization mode, so a comma culture is made by hand rather than by name.
            var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            System.Globalization.CultureInfo.CurrentCulture = comma;
            var svg = FrontPlot.Svg("t", Trials);
            var doc = XDocument.Parse(svg);
            Assert.All(doc.Descendants(Svg + "circle"),
                c => Assert.DoesNotContain(",", (string)c.Attribute("cx")! + (string)c.Attribute("cy")!));
            Assert.Contains("λ 0.0001", svg);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void No_trials_still_give_valid_svg_with_empty_axes()
    {
        var doc = XDocument.Parse(FrontPlot.Svg("empty", []));
        Assert.Empty(Circles(doc, "point"));
        Assert.Empty(Circles(doc, "front"));
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        Assert.Contains("weight sparsity", texts);
        Assert.Contains("node sparsity", texts);
    }

    [Fact]
    public void Titles_are_xml_escaped()
    {
        const string title = "a<b & \"c\" 'd'>";
        var doc = XDocument.Parse(FrontPlot.Svg(title, Trials));
        Assert.Equal(title + ": Pareto fronts of accuracy and sparsity", doc.Root!.Element(Svg + "title")!.Value);
    }

    [Fact]
    public void The_accuracy_axis_starts_at_the_minimum_rounded_down_to_a_tenth()
    {
        var doc = XDocument.Parse(FrontPlot.Svg("t", Trials));
        var labels = doc.Descendants(Svg + "text").Where(t => (string?)t.Attribute("text-anchor") == "end").Select(t => t.Value).ToArray();
        Assert.Equal("0.6", labels.First());   // lowest accuracy 0.62
        Assert.Equal("1", labels.Last());
        Assert.DoesNotContain("0.5", labels);
    }
}
