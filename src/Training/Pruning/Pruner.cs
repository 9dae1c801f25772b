using Sweep.Core;
using Sweep.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Pruning;

/// <summary>
/// Chooses which alive entries of a weight tensor to prune. Masks are permanent: a pruner only ever
/// turns entries off, and the chosen entries are zeroed in both the mask and the weight.
/// </summary>
public abstract class Pruner
{
    public static Pruner Create(PruneMethod method, double temperature) => method switch
    {
        PruneMethod.Stochastic => new StochasticPruner(temperature),
        PruneMethod.Magnitude => new MagnitudePruner(),
        PruneMethod.None => new NoPruner(),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown prune method"),
    };

    /// <summary>A pruner by its name in specs ("stochastic", "magnitude", "none"); an unknown name throws.</summary>
    public static Pruner Create(string method, double temperature) => Create(Vocabularies.PruneMethods.Parse(method), temperature);

    /// <summary>The trial's pruner.</summary>
    public static Pruner For(TrialParameters p) => Create(p.PruneMethodKind, p.Temperature);

    public virtual bool Prunes => true;

    /// <summary>Prunes as many alive entries as it takes to bring the tensor to <paramref name="sparsity"/>; returns how many.</summary>
    public long PruneToSparsity(Tensor weight, Tensor mask, double sparsity, Generator generator)
    {
        if (!Prunes) return 0;
        long alive = mask.device_type == DeviceType.CPU && mask.dtype == ScalarType.Float32 && mask.is_contiguous()
            ? CpuSelection.CountNonzero(mask)
            : mask.count_nonzero().item<long>();
        long k = PruningSchedule.EntriesToPrune(alive, mask.numel(), sparsity);
        return Prune(weight, mask, k, generator);
    }

    /// <summary>Prunes k alive entries of <paramref name="weight"/> (flat views are used; shapes are kept); returns how many.</summary>
    public long Prune(Tensor weight, Tensor mask, long k, Generator generator)
    {
        if (k <= 0 || !Prunes) return 0;
        if (weight.device_type == DeviceType.CPU && mask.device_type == DeviceType.CPU && weight.dtype == ScalarType.Float32
            && mask.dtype == ScalarType.Float32 && weight.is_contiguous() && mask.is_contiguous())
            return CpuSelection.Prune(this, weight, mask, k, generator);
        return PruneWithTensors(weight, mask, k, generator);
    }

    /// <summary>The device-independent path of <see cref="Prune"/> (tensor operations; a test compares it with the CPU path).</summary>
    internal long PruneWithTensors(Tensor weight, Tensor mask, long k, Generator generator)
    {
        if (k <= 0 || !Prunes) return 0;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var w = weight.view(-1);
        var m = mask.view(-1);
        // Keys are drawn for the alive entries only (the pruned ones can never be chosen again).
        var aliveIndex = m.nonzero().view(-1);
        long aliveCount = aliveIndex.shape[0];
        k = Math.Min(k, aliveCount);
        if (k <= 0) return 0;
        var keys = SelectionKeys(w.index_select(0, aliveIndex).abs_(), generator);
        var (_, top) = keys.topk((int)k, largest: true, sorted: false);
        var chosen = aliveIndex.index_select(0, top);
        m.index_fill_(0, chosen, 0);
        w.index_fill_(0, chosen, 0);
        return k;
    }

    /// <summary>A key per alive entry, from the alive entries' magnitudes: the k entries with the largest keys are pruned.</summary>
    protected abstract Tensor SelectionKeys(Tensor magnitude, Generator generator);

    /// <summary>
    /// The same keys as <see cref="SelectionKeys"/>, written into <paramref name="keys"/> on the CPU (the random draws come
    /// from <paramref name="generator"/> exactly as there: one uniform per alive entry, in order).
    /// </summary>
    internal abstract void FillKeys(ReadOnlySpan<float> magnitude, Span<float> keys, Generator generator);
}

/// <summary>The classic baseline: prune the k alive entries of smallest |w| (the τ → 0 limit of stochastic).</summary>
public sealed class MagnitudePruner : Pruner
{
    protected override Tensor SelectionKeys(Tensor magnitude, Generator generator) => magnitude.neg();

    internal override void FillKeys(ReadOnlySpan<float> magnitude, Span<float> keys, Generator generator)
    {
        for (int i = 0; i < magnitude.Length; i++) keys[i] = -magnitude[i];
    }
}

/// <summary>Never prunes.</summary>
public sealed class NoPruner : Pruner
{
    public override bool Prunes => false;
    protected override Tensor SelectionKeys(Tensor magnitude, Generator generator) => magnitude;

    internal override void FillKeys(ReadOnlySpan<float> magnitude, Span<float> keys, Generator generator) => magnitude.CopyTo(keys);
}
