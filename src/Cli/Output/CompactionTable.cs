using System.Globalization;
using System.Text;
using Sweep.Training.Compaction;

namespace Sweep.Cli.Output;

/// <summary>What `sweep compact` prints: layer sizes, then parameters, accuracy, agreement and latency before and after.</summary>
public static class CompactionTable
{
    public static string Render(CompactionReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(c, $"{r.Model} compacted: {Shown(r.Source)} → {Shown(r.Output)}\n");
        text.Append(c, $"  {"layer",-6} {"units",12} {"dead by inputs",15} {"by outputs",11} {"weights",20} {"nonzero weights",18}\n");
        foreach (var l in r.Layers)
        {
            bool hidden = l != r.Layers[^1];
            string units = Change(l.UnitsBefore, l.UnitsAfter) + (l.ConstantUnit ? "*" : "");
            text.Append(c, $"  {l.Name,-6} {units,12} "
                + $"{(hidden ? l.DeadByInputs.ToString(c) : "-"),15} {(hidden ? l.DeadByOutputs.ToString(c) : "-"),11}");
            text.Append(c, $" {Change(l.WeightsBefore, l.WeightsAfter),20} {Change(l.NonzeroWeightsBefore, l.NonzeroWeightsAfter),18}\n");
        }
        if (r.Layers.Any(l => l.ConstantUnit))
            text.Append("  * one of them is a constant filter: the filters dead by their inputs, merged (docs/algorithm.md)\n");
        string Row(string what, string before, string after, string note = "") =>
            string.Create(c, $"  {what,-34} {before,12} {after,12}{note}\n");
        text.Append(Row("", "before", "after"));
        double ratio = (double)r.ParametersAfter.Parameters / r.ParametersBefore.Parameters;
        text.Append(Row("parameters (weights + biases)",
            r.ParametersBefore.Parameters.ToString("N0", c), r.ParametersAfter.Parameters.ToString("N0", c),
            string.Create(c, $"   ({ratio:0.000}×)")));
        text.Append(Row("nonzero weights",
            r.ParametersBefore.NonzeroWeights.ToString("N0", c), r.ParametersAfter.NonzeroWeights.ToString("N0", c)));
        text.Append(Row($"accuracy ({r.TestImages} test images)", r.AccuracyBefore.ToString("F4", c), r.AccuracyAfter.ToString("F4", c)));
        text.Append(Row("latency, batch 1 (median image)",
            Milliseconds(r.LatencyBefore.Batch1Milliseconds), Milliseconds(r.LatencyAfter.Batch1Milliseconds),
            string.Create(c, $"   ({r.LatencyBefore.Batch1Milliseconds / r.LatencyAfter.Batch1Milliseconds:0.00}× speed-up)")));
        text.Append(Row($"latency, batch {r.TestImages} (median pass)",
            Milliseconds(r.LatencyBefore.FullBatchMilliseconds), Milliseconds(r.LatencyAfter.FullBatchMilliseconds),
            string.Create(c, $"   ({r.LatencyBefore.FullBatchMilliseconds / r.LatencyAfter.FullBatchMilliseconds:0.00}× speed-up)")));
        text.Append(c, $"  {"max |logit difference|",-34} {r.MaxLogitDifference.ToString("0.0e+00", c),12}\n");
        text.Append(c, $"  (both run on the test split of {r.Dataset} on the CPU, {r.Threads} thread(s))\n");
        return text.ToString();
    }

    // Paths under the current directory are shown relative to it, as the user would type them.
    private static string Shown(string path)
    {
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    private static string Change(long before, long after) => string.Create(CultureInfo.InvariantCulture, $"{before:N0} → {after:N0}");

    private static string Milliseconds(double ms) => ms.ToString(ms < 1 ? "0.0000" : "0.00", CultureInfo.InvariantCulture) + " ms";
}
