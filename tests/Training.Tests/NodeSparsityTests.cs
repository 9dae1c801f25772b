using Sweep.Core.Models;
using Sweep.Core;
using Sweep.Training.Metrics;
using Xunit;
using static TorchSharp.torch;

namespace Sweep.Training.Tests;

public sealed class NodeSparsityTests
{
    [Fact]
    public void Hidden_units_die_by_inputs_or_by_outputs_and_live_otherwise()
    {
        using var scope = NewDisposeScope();
        // 3 inputs → 4 hidden → 2 outputs.
        var w1 = tensor(new float[,]
        {
            { 1, 0, 2 },   // unit 0: alive in, alive out
            { 0, 0, 0 },   // unit 1: dead by inputs
            { 0, 3, 0 },   // unit 2: dead by outputs (column 2 of w2 is zero)
            { 0, 0, 4 },   // unit 3: alive in, alive out (one weight each way)
        });
        var w2 = tensor(new float[,]
        {
            { 1, 1, 0, 0 },
            { 0, 0, 0, 5 },
        });
        var report = SparsityReport.Measure([("fc1", w1), ("fc2", w2)]);

        Assert.Equal(new LayerRecord("fc1", 12, 8, 4, 2), report.Layers[0]);
        Assert.Equal(new LayerRecord("fc2", 8, 5, 0, 0), report.Layers[1]);
        Assert.Equal(2 / 4.0, report.NodeSparsity, 12);
        Assert.Equal(13 / 20.0, report.WeightSparsity, 12);
    }

    [Fact]
    public void Conv_channels_die_by_their_filters_or_by_the_flattened_linear_that_reads_them()
    {
        using var scope = NewDisposeScope();
        // conv 1→3 channels (2×2 kernels), output 3×2×2 flattened into a Linear 12 → 2.
        var conv = ones(3, 1, 2, 2);
        conv[1].zero_();                       // channel 1: dead by inputs
        var fc = ones(2, 12);
        fc.narrow(1, 8, 4).zero_();            // channel 2 (features 8–11): dead by outputs
        var report = SparsityReport.Measure([("conv", conv), ("fc", fc)]);

        Assert.Equal(3, report.Layers[0].Nodes);
        Assert.Equal(2, report.Layers[0].DeadNodes);
        Assert.Equal(2 / 3.0, report.NodeSparsity, 12);
    }

    [Fact]
    public void A_dense_network_has_no_dead_nodes_and_counts_the_paper_models_hidden_units()
    {
        using var scope = NewDisposeScope();
        using var mlp = Models.PrunableNetwork.Create("mlp");
        var report = SparsityReport.Measure(mlp.Layers.Select(l => (l.Name, (Tensor)l.Weight)).ToArray());
        Assert.Equal(400, report.Layers.Sum(l => l.Nodes));
        Assert.Equal(266_200, report.Layers.Sum(l => l.Weights));
        Assert.Equal(0, report.NodeSparsity);

        using var lenet = Models.PrunableNetwork.Create("lenet5");
        var lr = SparsityReport.Measure(lenet.Layers.Select(l => (l.Name, (Tensor)l.Weight)).ToArray());
        Assert.Equal(6 + 16 + 120 + 84, lr.Layers.Sum(l => l.Nodes));
    }
}
