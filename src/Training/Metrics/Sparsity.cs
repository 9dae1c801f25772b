using Sweep.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Metrics;

/// <summary>Weight and node sparsity of a network, overall and per layer.</summary>
public sealed record SparsityReport(double WeightSparsity, double NodeSparsity, IReadOnlyList<LayerRecord> Layers)
{
    /// <summary>
    /// Measures sparsity. A hidden unit of layer i (a row of a Linear weight or an output channel of a Conv) is dead when
    /// all its incoming weights (layer i) are zero or all its outgoing weights (layer i + 1) are zero. Layer i + 1 is viewed
    /// as [out, units of layer i, rest], which also covers a Linear after a flattened Conv (channel-major flatten).
    /// </summary>
    public static SparsityReport Measure(IReadOnlyList<(string Name, Tensor Weight)> layers)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var result = new LayerRecord[layers.Count];
        long weights = 0, zeros = 0, nodes = 0, dead = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var (name, w) = layers[i];
            long n = w.numel();
            long z = n - w.count_nonzero().item<long>();
            long units = 0, deadUnits = 0;
            if (i + 1 < layers.Count)
            {
                units = w.shape[0];
                var incomingAlive = w.reshape(units, -1).ne(0).any(1);
                var next = layers[i + 1].Weight;
                if (next.numel() % (next.shape[0] * units) != 0)
                    throw new InvalidOperationException($"layer {layers[i + 1].Name} does not consume the {units} units of {name}");
                var outgoingAlive = next.reshape(next.shape[0], units, -1).ne(0).any(2).any(0);
                deadUnits = units - incomingAlive.logical_and(outgoingAlive).sum().item<long>();
            }
            result[i] = new LayerRecord(name, n, z, units, deadUnits);
            weights += n; zeros += z; nodes += units; dead += deadUnits;
        }
        return new SparsityReport(weights == 0 ? 0 : (double)zeros / weights, nodes == 0 ? 0 : (double)dead / nodes, result);
    }
}
