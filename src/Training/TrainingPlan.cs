using Sweep.Core;
using Sweep.Core.Models;
using Sweep.Training.Pruning;
using static TorchSharp.torch;

namespace Sweep.Training;

/// <summary>
/// What every trainer derives the same way from a trial's settings (docs/algorithm.md): the samples it trains on (the
/// train split, cut to the train limit), the steps per epoch, the pruning schedule, the two random streams' seeds, and
/// the rule that a non-finite loss ends the trial. Both trainers (one trial, fused group) take these from here.
/// </summary>
public sealed record TrainingPlan(long Samples, int BatchSize, int Epochs)
{
    public static TrainingPlan For(TrialSettings settings, long trainSamples)
    {
        ArgumentNullException.ThrowIfNull(settings);
        long n = settings.TrainLimit is int limit ? Math.Min(limit, trainSamples) : trainSamples;
        return new TrainingPlan(n, settings.Params.BatchSize, settings.Params.Epochs);
    }

    /// <summary>Optimizer steps per epoch: the last batch of an epoch may be short.</summary>
    public long StepsPerEpoch => (Samples + BatchSize - 1) / BatchSize;

    public long TotalSteps => StepsPerEpoch * Epochs;

    /// <summary>The trial's pruning schedule over the whole of training.</summary>
    public PruningSchedule Schedule(TrialParameters p) => new(TotalSteps, p.RampFraction, p.Interval, p.PruneRate);

    /// <summary>The train split's first <see cref="Samples"/> rows (the tensors themselves when nothing is cut).</summary>
    public (Tensor X, Tensor Y) Cut(Tensor x, Tensor y) =>
        Samples < x.shape[0] ? (x.narrow(0, 0, Samples), y.narrow(0, 0, Samples)) : (x, y);

    /// <summary>The pruning noise's own stream: SplitMix64's first output for the trial seed (docs/algorithm.md).</summary>
    public static ulong PruningSeed(long seed) => new SplitMix64((ulong)seed).Next();

    /// <summary>The exception that ends a trial whose epoch loss is NaN or infinite, or null while it is finite.</summary>
    public static TrainingDivergedException? Diverged(int epoch, double loss) =>
        double.IsFinite(loss) ? null : new TrainingDivergedException(epoch, loss);
}
