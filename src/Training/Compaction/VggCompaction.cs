using Sweep.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Compaction;

/// <summary>
/// Compaction of a <c>vgg</c> (docs/algorithm.md, "Compaction"): the same dead sets as <see cref="NodeCompaction"/>, with
/// one rule for the constants that zero padding makes position-dependent.
/// <list type="bullet">
/// <item>Dead by outputs: the filter (its kernel, bias, batch-norm entries) and its zero columns in the next layer go.</item>
/// <item>Dead by inputs: the filter outputs the constant c_j = relu(BN(b_j)) (relu(b_j) without batch norm) everywhere,
/// and max-pooling keeps it. Read by the classifier (after the last convolution, or between classifier layers) it is
/// folded into the next layer's bias as for an mlp, exactly. Read by the next convolution it is not a bias: that
/// convolution pads with zeros, so border outputs see fewer copies of c_j than inner ones. All such filters of a layer
/// are then merged into one <em>constant filter</em> that outputs 1 everywhere (zero kernel; batch norm with scale 0 and
/// shift 1, or bias 1 without batch norm), whose input channel in the next convolution is Σ_j c_j · W_next[:, j]: the
/// next convolution then sees exactly what it saw, borders included. A layer gets at most one such filter, and none
/// when every such c_j (or its outgoing kernel) is zero.</item>
/// </list>
/// The compacted network's widths are the alive filters and units, plus the constant filters; its nonzero weights are
/// the original's between alive nodes plus the constant filters' columns.
/// </summary>
internal static class VggCompaction
{
    public static CompactionResult Compact(VggNetwork network)
    {
        var shape = network.Shape;
        var layers = network.Layers;
        var norms = network.Norms;
        int n = layers.Count, convs = norms.Count;
        var newWeights = new Tensor[n];
        var newBiases = new Tensor[n];
        var newNorms = new Tensor[convs][];
        var report = new LayerCompaction[n];
        var widths = new long[n - 1];
        long parameters = network.ParameterCount, weights = 0, nonzero = 0;
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            // float64 copies: merged columns and folded biases add no rounding of their own.
            var w = layers.Select(l => l.Weight.detach().to(CPU).to_type(ScalarType.Float64)).ToArray();
            var b = layers.Select(l => (l.Bias ?? throw new ArgumentException($"layer {l.Name} has no bias"))
                .detach().to(CPU).to_type(ScalarType.Float64)).ToArray();
            var bn = norms.Select(m => m is null ? null : new[] { m.weight, m.bias!, m.running_mean!, m.running_var! }
                .Select(t => t.detach().to(CPU).to_type(ScalarType.Float64)).ToArray()).ToArray();

            // Layer i as [units, units of layer i − 1 (or input channels), rest]: rest is the 3×3 kernel, the flattened
            // positions of a channel that fc1 reads (channel-major), or 1 between classifier layers.
            Tensor Blocks(int i) => w[i].reshape(w[i].shape[0], i == 0 ? w[0].shape[1] : w[i - 1].shape[0], -1);

            // What a unit of hidden layer i whose kernel is all zero outputs everywhere.
            Tensor Constant(int i)
            {
                if (i >= convs || bn[i] is not { } p) return b[i].relu();
                var eps = norms[i]!.eps;
                return b[i].sub(p[2]).div(p[3].add(eps).sqrt()).mul(p[0]).add(p[1]).relu();
            }

            var keep = new Tensor[n];
            var constantFilter = new bool[n];
            var zeros = new long[n];              // 1: an all-zero placeholder unit after the kept ones (nothing else left)
            var constantColumn = new Tensor?[n]; // layer i's input channel for layer i − 1's constant filter
            for (int i = 0; i < n; i++)
            {
                long units = w[i].shape[0], deadByInputs = 0, deadByOutputs = 0;
                if (i < n - 1)
                {
                    var hasIncoming = w[i].reshape(units, -1).ne(0).any(1);
                    var next = Blocks(i + 1);
                    var hasOutgoing = next.ne(0).any(2).any(0);
                    deadByInputs = units - hasIncoming.sum().item<long>();
                    deadByOutputs = hasIncoming.logical_and(hasOutgoing.logical_not()).sum().item<long>();
                    var constant = Constant(i).mul(hasIncoming.logical_not().to_type(ScalarType.Float64));
                    if (i + 1 < convs)
                    {
                        var column = next.mul(constant.view(1, -1, 1)).sum(1);
                        if (column.ne(0).any().item<bool>())
                        {
                            constantColumn[i + 1] = column;
                            constantFilter[i] = true;
                        }
                    }
                    else b[i + 1].add_(next.sum(2).matmul(constant));
                    keep[i] = hasIncoming.logical_and(hasOutgoing).nonzero().view(-1);
                    long width = keep[i].numel() + (constantFilter[i] ? 1 : 0);
                    // libtorch has no zero-width layers: a layer with nothing left keeps one unit that outputs 0.
                    if (width == 0) zeros[i] = 1;
                    widths[i] = width + zeros[i];
                }
                else keep[i] = torch.arange(units);

                var rows = Blocks(i).index_select(0, keep[i]);
                if (i > 0)
                {
                    rows = rows.index_select(1, keep[i - 1]);
                    if (constantColumn[i] is { } column) rows = torch.cat([rows, column.index_select(0, keep[i]).unsqueeze(1)], 1);
                    if (zeros[i - 1] > 0)
                        rows = torch.cat([rows, torch.zeros(rows.shape[0], zeros[i - 1], rows.shape[2], ScalarType.Float64)], 1);
                }
                var bias = b[i].index_select(0, keep[i]);
                long added = (constantFilter[i] ? 1 : 0) + zeros[i];
                if (added > 0)
                {
                    rows = torch.cat([rows, torch.zeros(added, rows.shape[1], rows.shape[2], ScalarType.Float64)], 0);
                    // Without batch norm the constant filter's bias makes relu(1) = 1; with it, batch norm's shift does.
                    var tail = torch.zeros(added, ScalarType.Float64);
                    if (constantFilter[i] && (i >= convs || bn[i] is null)) tail[0] = 1;
                    bias = torch.cat([bias, tail]);
                }
                if (i < convs && bn[i] is { } p)
                {
                    // scale, shift, mean, variance of the added filters: 0·x + 1 for a constant filter, 0·x + 0 for the others
                    newNorms[i] = p.Select((t, k) =>
                    {
                        var kept = t.index_select(0, keep[i]);
                        if (added > 0)
                        {
                            var tail = torch.full(added, k == 3 ? 1.0 : 0.0, ScalarType.Float64);
                            if (k == 1 && constantFilter[i]) tail[0] = 1;
                            kept = torch.cat([kept, tail]);
                        }
                        return kept.to_type(ScalarType.Float32).DetachFromDisposeScope();
                    }).ToArray();
                }
                var size = w[i].shape.ToArray();
                size[0] = rows.shape[0];
                if (i > 0) size[1] = size[1] / w[i - 1].shape[0] * rows.shape[1];
                newWeights[i] = rows.reshape(size).to_type(ScalarType.Float32).contiguous().DetachFromDisposeScope();
                newBiases[i] = bias.to_type(ScalarType.Float32).DetachFromDisposeScope();

                long nz = w[i].count_nonzero().item<long>();
                report[i] = new LayerCompaction(layers[i].Name, units, deadByInputs, deadByOutputs, rows.shape[0],
                    w[i].numel(), newWeights[i].numel(), nz, newWeights[i].count_nonzero().item<long>())
                {
                    ConstantUnit = constantFilter[i],
                };
                weights += w[i].numel();
                nonzero += nz;
            }
        }

        var compacted = (VggNetwork)new NetworkShape(shape.Model, widths, shape.Input, shape.Classes)
        {
            Architecture = shape.Architecture,
        }.Build();
        try
        {
            using var _ = torch.no_grad();
            var target = compacted.Layers;
            for (int i = 0; i < n; i++)
            {
                target[i].Weight.copy_(newWeights[i]);
                target[i].Bias!.copy_(newBiases[i]);
            }
            var targetNorms = compacted.Norms;
            for (int i = 0; i < convs; i++)
            {
                if (targetNorms[i] is not { } m) continue;
                m.weight.copy_(newNorms[i][0]);
                m.bias!.copy_(newNorms[i][1]);
                m.running_mean!.copy_(newNorms[i][2]);
                m.running_var!.copy_(newNorms[i][3]);
                m.eps = norms[i]!.eps;
            }
            compacted.train(network.training);
        }
        catch
        {
            compacted.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in newWeights.Concat(newBiases).Concat(newNorms.Where(a => a is not null).SelectMany(a => a)))
                t?.Dispose();
        }
        var after = new ParameterCount(compacted.ParameterCount, report.Sum(l => l.WeightsAfter), report.Sum(l => l.NonzeroWeightsAfter));
        return new CompactionResult(compacted, shape, report, new ParameterCount(parameters, weights, nonzero), after);
    }
}
