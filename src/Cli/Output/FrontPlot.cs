using Sweep.Core.Models;

namespace Sweep.Cli.Output;

/// <summary>
/// front.svg: the front plot of `sweep plot --kind front` (<see cref="PlotData.Front"/> drawn by <see cref="PlotSvg"/>),
/// accuracy against weight sparsity and against node sparsity, every completed trial a point and each panel's Pareto
/// front joined, with each point's settings on hover. One renderer draws both.
/// </summary>
public static class FrontPlot
{
    public static string Svg(string title, IReadOnlyList<TrialResult> trials) => PlotSvg.Render(PlotData.Front(trials, title));
}
