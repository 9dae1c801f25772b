using TorchSharp;
using Sweep.Core.Models;
using Sweep.Training.Compaction;
using Sweep.Training.Models;
using Xunit;
using static TorchSharp.torch;

namespace Sweep.Training.Tests;

public sealed class VggCompactionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-vgg-compact-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double MaxDifference(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return a.forward(x).sub(b.forward(x)).abs().max().item<float>();
    }

    /// <summary>
    /// A vgg of three convolutions (the last two without a pool between them, so conv2 reads conv1's pooled map and conv3
    /// reads conv2's at full size, both zero-padded) with random batch-norm statistics, and dead nodes of every kind:
    /// conv1 filters 0 and 1 dead by inputs with nonzero constants (read by conv2: merged into one constant filter),
    /// conv1 filter 2 dead by outputs, conv2 filter 3 dead by inputs (read by conv3: a constant filter), conv3 filter 5
    /// dead by inputs (read by fc1: folded into its bias), fc1 unit 4 dead by inputs and unit 6 dead by outputs.
    /// </summary>
    private static VggNetwork DeadNetwork(bool batchNorm)
    {
        string model = $"vgg(8,M,16,16,M|32|{(batchNorm ? "bn" : "nobn")}|1)";
        var network = (VggNetwork)NetworkShape.Full(model, [3, 12, 12]).Build();
        var generator = new Generator(7);
        network.Initialize(generator);
        using var _ = no_grad();
        var layers = network.Layers;
        foreach (var norm in network.Norms)
        {
            if (norm is null) continue;
            norm.weight.uniform_(0.5, 1.5, generator);
            norm.bias!.uniform_(0.1, 0.9, generator);
            norm.running_mean!.uniform_(-0.2, 0.2, generator);
            norm.running_var!.uniform_(0.5, 2, generator);
        }
        foreach (int j in new[] { 0, 1 }) layers[0].Weight[j].zero_();
        layers[1].Weight[.., 2].zero_();
        if (!batchNorm) layers[0].Bias!.add_(0.5);   // relu(b) > 0 for the constants
        layers[1].Weight[3].zero_();
        layers[2].Weight[5].zero_();
        layers[3].Weight[4].zero_();
        layers[3].Bias![4] = tensor(0.8f);
        layers[4].Weight[.., 6].zero_();
        network.eval();
        return network;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dead_filters_go_and_the_constants_of_dead_inputs_reach_the_next_convolution_exactly_at_the_borders(bool batchNorm)
    {
        using var network = DeadNetwork(batchNorm);
        using var compaction = NodeCompaction.Compact(network);

        // conv1: 8 − 3 dead + 1 constant filter; conv2: 16 − 1 + 1; conv3: 16 − 1 (folded into fc1); fc1: 32 − 2.
        Assert.Equal([6L, 16, 15, 30], compaction.ShapeAfter.Widths);
        Assert.Equal([true, true, false, false, false], compaction.Layers.Select(l => l.ConstantUnit));
        Assert.Equal([2L, 1, 1, 1, 0], compaction.Layers.Select(l => l.DeadByInputs));
        Assert.Equal([1L, 0, 0, 1, 0], compaction.Layers.Select(l => l.DeadByOutputs));
        Assert.Equal(network.Shape.Architecture, compaction.ShapeAfter.Architecture);
        Assert.True(compaction.After.Parameters < compaction.Before.Parameters);

        // Images whose borders differ from their insides: a bias fold would be wrong at every border pixel.
        using var x = rand(64, 3, 12, 12, generator: new Generator(3)).mul(2).sub(0.5);
        Assert.True(MaxDifference(network, compaction.Network, x) <= 1e-4);

        // Compacting again keeps the outputs (the constant filter stays one filter).
        using var again = NodeCompaction.Compact(compaction.Network);
        Assert.Equal(compaction.ShapeAfter.Widths, again.ShapeAfter.Widths);
        Assert.True(MaxDifference(network, again.Network, x) <= 1e-4);
    }

    [Fact]
    public void Folding_a_constant_filter_into_the_next_convolutions_bias_would_be_wrong_at_the_borders()
    {
        // The reason for the constant filter: the same network with conv1's constants folded into conv2's bias (what an
        // mlp's compaction does) differs at border positions. Checked here so the rule above is not an accident.
        using var network = DeadNetwork(batchNorm: true);
        using var folded = (VggNetwork)NetworkShape.Full(network.Shape.Architecture!, [3, 12, 12]).Build();
        folded.load_state_dict(network.state_dict());
        folded.eval();
        using (no_grad())
        {
            var norm = network.Norms[0]!;
            var constant = network.Layers[0].Bias!.sub(norm.running_mean!).div(norm.running_var!.add(norm.eps).sqrt())
                .mul(norm.weight).add(norm.bias!).relu();
            var next = folded.Layers[1].Weight;
            folded.Layers[1].Bias!.add_(next[.., ..2].sum([2, 3]).matmul(constant[..2]));
            next[.., ..2].zero_();
        }
        using var x = rand(8, 3, 12, 12, generator: new Generator(3));
        Assert.True(MaxDifference(network, folded, x) > 1e-3);
    }

    [Fact]
    public void A_trained_vgg_compacts_through_its_model_file_with_equal_accuracy()
    {
        string path = Path.Combine(_dir, "vgg.pt");
        var settings = new TrialSettings
        {
            Params = new()
            {
                Model = "vgg(8,M,16,M|32|bn|1)", Regularizer = "l1", Lambda = 1e-3, PruneRate = 0.95, Epochs = 1,
                LearningRate = 0.02,
            },
            TrainLimit = 2_000,
        };
        var trained = TrialRunner.Run(settings, new TrainingOptions("cpu", 1, path),
            cancellationToken: TestContext.Current.CancellationToken);

        var report = CompactionReport.CompactFile(path, passes: 2);

        long dead = trained.Layers.Take(3).Sum(l => l.DeadNodes);
        Assert.True(dead > 0, "1 epoch at rate 0.95 kills some filters or units");
        Assert.True(report.WidthsAfter.Sum() < report.WidthsBefore.Sum(), $"{string.Join(',', report.WidthsAfter)}");
        Assert.Equal(report.AccuracyBefore, report.AccuracyAfter);
        Assert.Equal(trained.Accuracy, report.AccuracyBefore, 6);
        Assert.True(report.MaxLogitDifference <= 1e-4, $"max |Δlogit| {report.MaxLogitDifference}");
        using var reloaded = ModelFile.Load(report.Output);
        Assert.True(reloaded.Description.Compacted);
        Assert.Equal(report.WidthsAfter, reloaded.Network.Shape.Widths);
    }

    [Theory]
    [InlineData("vgg(32,32,M|32|bn|1)", 8)]
    [InlineData("vgg(32,32,M|32|nobn|1)", 8)]
    [InlineData("vgg(8,M,16,M,48,32,M|32|bn|1)", 16)]
    public void A_compacted_vgg_whose_widths_libtorch_gets_wrong_still_computes_the_same_outputs(string model, int side)
    {
        // Killing every other filter of the first convolution with more than 16 filters leaves 16 or 24 alive plus a
        // constant filter: 17 or 25 input channels for the next convolution, which this libtorch computes wrongly in
        // float32 (next test). The compacted network is a VggNetwork, whose forward pads such inputs itself.
        using var network = (VggNetwork)NetworkShape.Full(model, [3, side, side]).Build();
        var generator = new Generator(11);
        network.Initialize(generator);
        int layer = network.Layers.Select((l, i) => (l, i)).First(p => p.l.Weight.shape[0] > 16).i;
        using (no_grad())
        {
            foreach (var norm in network.Norms)
            {
                if (norm is null) continue;
                norm.bias!.uniform_(0.1, 0.9, generator);
                norm.running_var!.uniform_(0.5, 2, generator);
            }
            if (network.Norms[0] is null) network.Layers[layer].Bias!.uniform_(0.1, 0.5, generator);
            var w = network.Layers[layer].Weight;
            for (int j = 0; j < w.shape[0]; j += 2) w[j].zero_();
        }
        network.eval();
        using var compaction = NodeCompaction.Compact(network);
        long width = compaction.ShapeAfter.Widths[layer];
        Assert.Equal(network.Layers[layer].Weight.shape[0] / 2 + 1, width);   // the alive half and the constant filter
        Assert.NotEqual(SafeConvolution.InputChannels(width), width);
        Assert.True(compaction.Layers[layer].ConstantUnit);
        using var x = rand(16, 3, side, side, generator: new Generator(3));
        Assert.True(MaxDifference(network, compaction.Network, x) <= 1e-4);
    }

    [Fact]
    public void The_channel_counts_vgg_convolutions_run_at_compute_right_in_float32()
    {
        // The reference is an im2col product in float64. Widths that SafeChannels keeps must agree to float rounding;
        // VggNetwork computes the others over zero channels appended up to such a width.
        for (int channels = 1; channels <= 70; channels++)
        {
            if (SafeConvolution.InputChannels(channels) != channels) continue;
            var g = new Generator((ulong)channels);
            using var scope = NewDisposeScope();
            var x = rand(2, channels, 6, 6, generator: g);
            var w = rand(4, channels, 3, 3, generator: g).sub(0.5);
            var y = nn.functional.conv2d(x, w, padding: [1, 1]).to_type(ScalarType.Float64);
            var columns = nn.functional.unfold(x.to_type(ScalarType.Float64), 3, padding: 1);
            var reference = w.to_type(ScalarType.Float64).view(4, -1).matmul(columns).view(2, 4, 6, 6);
            double error = y.sub(reference).abs().max().item<double>();
            Assert.True(error < 1e-4, $"{channels} channels: float32 convolution off by {error}");
        }
    }

    [Fact]
    public void A_vgg_whose_widths_libtorch_gets_wrong_computes_its_convolutions_right()
    {
        // 24 and 40 channels: conv2 and conv3 read inputs this libtorch computes wrongly in float32; the network pads
        // them. The float64 copy of the same network is the reference (float64 convolutions are right at any width).
        using var network = NetworkShape.Full("vgg(24,M,40,M,24|16|nobn|1)", [3, 16, 16]).Build();
        network.Initialize(new Generator(5));
        using var twin = NetworkShape.Full("vgg(24,M,40,M,24|16|nobn|1)", [3, 16, 16]).Build();
        twin.load_state_dict(network.state_dict());
        twin.to(ScalarType.Float64);
        using var x = rand(8, 3, 16, 16, generator: new Generator(2));
        using var _ = no_grad();
        using var y = network.forward(x).to_type(ScalarType.Float64);
        using var reference = twin.forward(x.to_type(ScalarType.Float64));
        double error = y.sub(reference).abs().max().item<double>();
        Assert.True(error < 1e-4, $"off by {error}");
    }
}
