using Sweep.Core.Models;
using Sweep.Core.Pareto;

namespace Sweep.Cli.Output;

/// <summary>
/// front.svg: the front plot of `sweep plot --kind front` (<see cref="PlotData.Front"/> drawn by <see cref="PlotSvg"/>),
/// accuracy against weight sparsity and against node sparsity, every completed trial a point and each panel's Pareto
/// front joined, with each point's settings on hover. One renderer draws both.
/// </summary>
public static class FrontPlot
{
    /// <summary>Past this many completed trials the cloud is sampled: both fronts' trials and an even sample of the rest.</summary>
    public const int MaxPoints = 20_000;

    public static string Svg(string title, IReadOnlyList<TrialResult> trials) => PlotSvg.Render(PlotData.Front(Drawn(trials), title));

    /// <summary>
    /// The trials front.svg draws: all of them up to <see cref="MaxPoints"/> completed ones; beyond, every trial on either
    /// front (up to half of them, evenly sampled) and every k-th of the others (in the order given), so that a
    /// 100,000-trial sweep's picture stays a few MB.
    /// </summary>
    public static IReadOnlyList<TrialResult> Drawn(IReadOnlyList<TrialResult> trials)
    {
        var completed = trials.Where(t => t.Status == TrialStatus.Completed && t.Accuracy is not null).ToArray();
        if (completed.Length <= MaxPoints) return trials;
        var points = completed.Select(t => new FrontPoint(t.TrialId, t.Params, t.Accuracy ?? double.NaN,
            t.WeightSparsity ?? double.NaN, t.NodeSparsity ?? double.NaN)).ToArray();
        // Front members first (up to half the points, evenly sampled when a front of ties is larger), then the cloud.
        var front = ParetoFront.NonDominated(points, "accuracy", "weightSparsity")
            .Concat(ParetoFront.NonDominated(points, "accuracy", "nodeSparsity"))
            .Select(p => p.TrialId).Distinct(StringComparer.Ordinal).ToArray();
        int frontStride = (int)Math.Ceiling(front.Length / (double)(MaxPoints / 2));
        var onFront = front.Where((_, i) => i % frontStride == 0).ToHashSet(StringComparer.Ordinal);
        int stride = (int)Math.Ceiling(completed.Length / (double)(MaxPoints - onFront.Count));
        return completed.Where((t, i) => onFront.Contains(t.TrialId) || i % stride == 0).ToArray();
    }
}
