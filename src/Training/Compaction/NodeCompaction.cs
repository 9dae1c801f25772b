using Sweep.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Compaction;

/// <summary>A network's size: dense parameters (every weight and bias), weights, and weights that are not zero.</summary>
public sealed record ParameterCount(long Parameters, long Weights, long NonzeroWeights);

/// <summary>
/// One layer before and after compaction. Units are a Linear's rows or a Conv's output channels: the hidden nodes, or
/// the 10 outputs of the last layer (never removed). A hidden layer whose every node is dead keeps one all-zero node.
/// </summary>
public sealed record LayerCompaction(
    string Name,
    long UnitsBefore,
    long DeadByInputs,
    long DeadByOutputs,
    long UnitsAfter,
    long WeightsBefore,
    long WeightsAfter,
    long NonzeroWeightsBefore,
    long NonzeroWeightsAfter)
{
    /// <summary>
    /// A vgg convolution's filters dead by their inputs were merged into one filter that outputs 1 everywhere (counted in
    /// <see cref="UnitsAfter"/>; <see cref="VggCompaction"/> says why).
    /// </summary>
    public bool ConstantUnit { get; init; }
}

/// <summary>A compacted network and what compaction removed. Dispose it to free the network.</summary>
public sealed class CompactionResult(PrunableNetwork network, NetworkShape shapeBefore, IReadOnlyList<LayerCompaction> layers,
    ParameterCount before, ParameterCount after) : IDisposable
{
    /// <summary>The smaller dense network; on the CPU.</summary>
    public PrunableNetwork Network { get; } = network;
    public NetworkShape ShapeBefore { get; } = shapeBefore;
    public NetworkShape ShapeAfter => Network.Shape;
    public IReadOnlyList<LayerCompaction> Layers { get; } = layers;
    public ParameterCount Before { get; } = before;
    /// <summary>Dense parameters of the compacted network; its nonzero weights are the original's restricted to alive nodes.</summary>
    public ParameterCount After { get; } = after;

    public void Dispose() => Network.Dispose();
}

/// <summary>
/// Turns a pruned network into a smaller dense one with the same outputs by removing its dead hidden nodes, as
/// docs/algorithm.md defines them: a unit of a hidden Linear, or an output channel of a Conv feeding a later layer,
/// is dead when all its incoming weights are zero or all its outgoing weights (in the next layer) are zero.
/// <list type="bullet">
/// <item>Dead by outputs: it contributes nothing downstream; its row (and bias) and its zero columns go.</item>
/// <item>Dead by inputs: it outputs the constant relu(b_j) whatever the input. That constant survives ReLU and max-pooling
/// and reaches every position the next layer reads (conv2 has no padding, and a flattened channel is 25 features), so its
/// effect is a constant added to the next layer's bias: b_next += relu(b_j) · Σ W_next[:, j, …] (summed over the kernel or
/// the channel's 25 flattened columns). Then it is removed like the others.</item>
/// </list>
/// The dead sets are computed once from the given weights, exactly as <see cref="Metrics.SparsityReport"/> counts them,
/// so the compacted widths are the alive-node counts. Removing a node's zero weights changes nothing, so the compacted
/// network's nonzero weights are exactly the original's nonzero weights between alive nodes (and inputs and outputs).
/// </summary>
public static class NodeCompaction
{
    /// <summary>
    /// Compacts a network: a trained one, or one loaded by <see cref="ModelFile.Load"/>; compacting a compacted network
    /// again changes nothing. The input is not changed.
    /// </summary>
    public static CompactionResult Compact(PrunableNetwork network) =>
        network is VggNetwork vgg ? VggCompaction.Compact(vgg) : Compact(network.Shape, network.Layers);

    private static CompactionResult Compact(NetworkShape shape, IReadOnlyList<PrunableLayer> layers)
    {
        if (shape.Architecture is not null)
            throw new ArgumentException($"a {shape.Architecture} network must be a {nameof(VggNetwork)} to be compacted");
        string model = shape.Model;
        var names = ModelFamilies.Get(model).LayerNames(layers.Count - 1);
        if (!layers.Select(l => l.Name).SequenceEqual(names))
            throw new ArgumentException(
                $"a {model} has layers {string.Join(", ", names)}, got {string.Join(", ", layers.Select(l => l.Name))}");
        int n = layers.Count;
        var newWeights = new Tensor[n];
        var newBiases = new Tensor[n];
        var report = new LayerCompaction[n];
        var widths = new long[n - 1];
        long parameters = 0, weights = 0, nonzero = 0;
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var w = layers.Select(l => l.Weight.detach().to(CPU)).ToArray();
            // Biases change as constants are folded in: float64 copies, so folding adds no rounding of its own.
            var b = layers.Select(l => (l.Bias ?? throw new ArgumentException($"layer {l.Name} has no bias"))
                .detach().to(CPU).to_type(ScalarType.Float64)).ToArray();

            // Layer i as [units, units of layer i − 1 (or inputs), rest]: rest is a Conv's kernel area, or the 25
            // flattened positions of each conv2 channel that fc1 of lenet5 reads (channel-major flatten).
            Tensor Blocks(int i)
            {
                long units = w[i].shape[0], inputs = i == 0 ? w[0].shape[1] : w[i - 1].shape[0];
                if (w[i].numel() % (units * inputs) != 0)
                    throw new ArgumentException($"layer {layers[i].Name} does not read the {inputs} units of the layer before it");
                return w[i].reshape(units, inputs, -1);
            }

            var keep = new Tensor[n];
            var placeholder = new bool[n];
            for (int i = 0; i < n; i++)
            {
                long units = w[i].shape[0];
                long deadByInputs = 0, deadByOutputs = 0;
                if (i < n - 1)
                {
                    var hasIncoming = w[i].reshape(units, -1).ne(0).any(1);
                    var next = Blocks(i + 1);
                    var hasOutgoing = next.ne(0).any(2).any(0);
                    var alive = hasIncoming.logical_and(hasOutgoing);
                    deadByInputs = units - hasIncoming.sum().item<long>();
                    deadByOutputs = hasIncoming.logical_and(hasOutgoing.logical_not()).sum().item<long>();
                    var constant = b[i].relu().mul(hasIncoming.logical_not().to_type(ScalarType.Float64));
                    b[i + 1].add_(next.to_type(ScalarType.Float64).sum(2).matmul(constant));
                    keep[i] = alive.nonzero().view(-1);
                    // libtorch cannot build a layer of width 0: keep one node that reads nothing and outputs relu(0) = 0.
                    placeholder[i] = keep[i].numel() == 0;
                    if (placeholder[i]) keep[i] = torch.zeros(1, ScalarType.Int64);
                    widths[i] = keep[i].numel();
                }
                else keep[i] = torch.arange(units);

                var rows = Blocks(i).index_select(0, keep[i]);
                if (i > 0) rows = rows.index_select(1, keep[i - 1]);
                if (placeholder[i] || (i > 0 && placeholder[i - 1])) rows = torch.zeros_like(rows);
                var size = w[i].shape.ToArray();
                size[0] = keep[i].numel();
                if (i > 0) size[1] = size[1] / w[i - 1].shape[0] * keep[i - 1].numel();
                newWeights[i] = rows.reshape(size).contiguous().DetachFromDisposeScope();
                var bias = b[i].index_select(0, keep[i]).to_type(ScalarType.Float32);
                newBiases[i] = (placeholder[i] ? torch.zeros_like(bias) : bias).DetachFromDisposeScope();

                long nz = w[i].count_nonzero().item<long>();
                report[i] = new LayerCompaction(layers[i].Name, units, deadByInputs, deadByOutputs, keep[i].numel(),
                    w[i].numel(), newWeights[i].numel(), nz, newWeights[i].count_nonzero().item<long>());
                parameters += w[i].numel() + b[i].numel();
                weights += w[i].numel();
                nonzero += nz;
            }
        }

        var network = new NetworkShape(model, widths, shape.Input, shape.Classes).Build();
        try
        {
            using var _ = torch.no_grad();
            var target = network.Layers;
            for (int i = 0; i < n; i++)
            {
                target[i].Weight.copy_(newWeights[i]);
                target[i].Bias!.copy_(newBiases[i]);
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in newWeights.Concat(newBiases)) t?.Dispose();
        }
        var after = new ParameterCount(network.ParameterCount, report.Sum(l => l.WeightsAfter), report.Sum(l => l.NonzeroWeightsAfter));
        var before = new NetworkShape(model, report.Take(n - 1).Select(l => l.UnitsBefore).ToArray(), shape.Input, shape.Classes);
        return new CompactionResult(network, before, report, new ParameterCount(parameters, weights, nonzero), after);
    }
}
