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
    public double Temperature { get; } = temperature > 0 ? temperature : throw new ArgumentOutOfRangeException(nameof(temperature), "temperature must be > 0");

    protected override Tensor SelectionKeys(Tensor magnitude, Generator generator)
    {
        double sigma = magnitude.numel() > 1 ? magnitude.std().item<float>() : 0;
        // Equal magnitudes (σ = 0) make every alive entry equally likely: the limit of the formula.
        var logits = sigma > 0 && double.IsFinite(sigma)
            ? magnitude.div(-Temperature * sigma)
            : torch.zeros_like(magnitude);
        return logits.add_(Gumbel(magnitude.shape, generator, magnitude.device));
    }

    /// <summary>Standard Gumbel noise −log(−log U), drawn on the CPU generator so results do not depend on the device.</summary>
    private static Tensor Gumbel(long[] shape, Generator generator, Device device)
    {
        var u = torch.rand(shape, generator: generator).clamp_(1e-20, 1.0 - 1e-7);
        var g = u.log_().neg_().log_().neg_();
        return device.type == DeviceType.CPU ? g : g.to(device);
    }
}
