using System.Globalization;
using System.Text;
using Sweep.Core.Models;

namespace Sweep.Cli.Output;

/// <summary>The fronts as plain-text tables for the terminal.</summary>
public static class FrontTable
{
    /// <summary>Rows shown per front (a front of tied trials can hold a whole sweep).</summary>
    public const int MaxRows = 100;

    public static string Render(FrontReport front)
    {
        var text = new StringBuilder();
        Section(text, "Pareto front", front.Objectives, front.ReferencePoint, front.Hypervolume, front.Points);
        text.AppendLine();
        var node = front.NodeFront;
        Section(text, "Node front", node.Objectives, node.ReferencePoint, node.Hypervolume, node.Points);
        return text.ToString();
    }

    private static void Section(StringBuilder text, string title, IReadOnlyList<string> objectives, IReadOnlyList<double> reference,
        double hypervolume, IReadOnlyList<FrontPoint> points)
    {
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(string.Create(c,
            $"{title} ({string.Join(" vs ", objectives)}): {points.Count} trial(s), hypervolume {hypervolume:F4} "
            + $"(reference {string.Join(", ", reference.Select(r => r.ToString(c)))})"));
        if (points.Count == 0) return;
        // Model names can be long ("mlp[500,150]"): the column is as wide as the widest.
        int m = Math.Max(6, points.Max(p => p.Params.Model.Length));
        text.AppendLine(string.Create(c,
            $"  {"trial",-14} {"model".PadRight(m)} {"reg",-5} {"lambda",-8} {"rate",-6} {"method",-10} {"seed",4}  "
            + $"{"accuracy",8}  {"weight sp",9}  {"node sp",7}"));
        foreach (var p in points.Take(MaxRows))
        {
            var q = p.Params;
            text.AppendLine(string.Create(c,
                $"  {p.TrialId,-14} {q.Model.PadRight(m)} {q.Regularizer,-5} {q.Lambda,-8:0.#####e0} "
                + $"{q.PruneRate,-6:0.####} {q.PruneMethod,-10} "
                + $"{q.Seed,4}  {p.Accuracy,8:F4}  {p.WeightSparsity,9:F4}  {p.NodeSparsity,7:F4}"));
        }
        if (points.Count > MaxRows) text.AppendLine(string.Create(c, $"  … {points.Count - MaxRows} more (front.json has them all)"));
    }
}
