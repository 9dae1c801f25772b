using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Pruning;

/// <summary>
/// The seed paper's stochastic weight pruning: k alive entries sampled without replacement with probability
/// ∝ exp(−|w| / (τ·σ)), σ the standard deviation of |w| over the alive entries. Gumbel-top-k over the
/// log-weights −|w|/(τσ) draws exactly from that distribution in one pass.
/// </summary>
public sealed class StochasticPruner(double temperature) : Pruner
{
    public double Temperature { get; } =
        temperature > 0 ? temperature : throw new ArgumentOutOfRangeException(nameof(temperature), "temperature must be > 0");

    protected override Tensor SelectionKeys(Tensor magnitude, Generator generator)
    {
        double sigma = magnitude.numel() > 1 ? magnitude.std().item<float>() : 0;
        // Equal magnitudes (σ = 0) make every alive entry equally likely: the limit of the formula.
        var logits = sigma > 0 && double.IsFinite(sigma)
            ? magnitude.div(-Temperature * sigma)
            : torch.zeros_like(magnitude);
        return logits.add_(Gumbel(magnitude.shape, generator, magnitude.device));
    }

    internal override unsafe void FillKeys(ReadOnlySpan<float> magnitude, Span<float> keys, Generator generator)
    {
        int n = magnitude.Length;
        // σ as torch.std computes it: the unbiased standard deviation.
        double sigma = 0;
        if (n > 1)
        {
            double mean = 0;
            for (int i = 0; i < n; i++) mean += magnitude[i];
            mean /= n;
            double ss = 0;
            for (int i = 0; i < n; i++) { double d = magnitude[i] - mean; ss += d * d; }
            sigma = (float)Math.Sqrt(ss / (n - 1));
        }
        using var u = torch.rand(new long[] { n }, generator: generator);   // the same draws as the tensor path
        var uniform = new ReadOnlySpan<float>((void*)Fusion.StackedState.DataPointer(u), n);
        bool scaled = sigma > 0 && double.IsFinite(sigma);
        float divisor = (float)(-Temperature * sigma);
        int i0 = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lo = Vector256.Create(1e-20f);
            var hi = Vector256.Create(1f - 1e-7f);
            var div = Vector256.Create(divisor);
            fixed (float* m = magnitude, k = keys, up = uniform)
            {
                for (; i0 + 8 <= n; i0 += 8)
                {
                    var x = Vector256.Min(Vector256.Max(Vector256.Load(up + i0), lo), hi);
                    var gumbel = -Vector256.Log(-Vector256.Log(x));
                    var logit = scaled ? Vector256.Load(m + i0) / div : Vector256<float>.Zero;
                    (logit + gumbel).Store(k + i0);
                }
            }
        }
        for (int i = i0; i < n; i++)
        {
            float x = Math.Clamp(uniform[i], 1e-20f, 1f - 1e-7f);
            keys[i] = (scaled ? magnitude[i] / divisor : 0) - MathF.Log(-MathF.Log(x));
        }
    }

    /// <summary>Standard Gumbel noise −log(−log U), drawn on the CPU generator so results do not depend on the device.</summary>
    private static Tensor Gumbel(long[] shape, Generator generator, Device device)
    {
        var u = torch.rand(shape, generator: generator).clamp_(1e-20, 1.0 - 1e-7);
        var g = u.log_().neg_().log_().neg_();
        return device.type == DeviceType.CPU ? g : g.to(device);
    }
}
