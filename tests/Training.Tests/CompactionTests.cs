using Sweep.Core.Search;
using Sweep.Core.Models;
using Sweep.Core;
using Sweep.Training.Compaction;
using Sweep.Training.Data;
using Sweep.Training.Metrics;
using Sweep.Training.Models;
using Xunit;
using static TorchSharp.torch;

namespace Sweep.Training.Tests;

public sealed class CompactionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-compact-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DeviceTensors Mnist => Dataset.Load(DatasetRef.Mnist10k).On(CPU);

    private static (string, Tensor)[] Named(PrunableNetwork network) => network.Layers.Select(l => (l.Name, (Tensor)l.Weight)).ToArray();

    /// <summary>
    /// The reference the compaction is checked against, by the definition and with plain loops: which units of each hidden
    /// layer are alive (some incoming and some outgoing weight nonzero), and how many nonzero weights join alive units
    /// (the inputs and the outputs always count as alive).
    /// </summary>
    private static (bool[][] Alive, long NonzeroBetweenAlive) Reference(PrunableNetwork network)
    {
        var layers = network.Layers.Select(l =>
        {
            var w = l.Weight.detach().cpu().contiguous();
            return (Data: w.data<float>().ToArray(), Units: (int)w.shape[0], Size: (int)w.numel());
        }).ToArray();
        int n = layers.Length;
        var alive = new bool[n][];
        for (int i = 0; i < n; i++)
        {
            var (data, units, size) = layers[i];
            int perUnit = size / units;
            alive[i] = new bool[units];
            for (int j = 0; j < units; j++)
            {
                if (i == n - 1) { alive[i][j] = true; continue; }
                bool incoming = false;
                for (int k = 0; k < perUnit && !incoming; k++) incoming = data[j * perUnit + k] != 0;
                var next = layers[i + 1];
                // block: kernel area, or a flattened channel's positions
                int nextPerUnit = next.Size / next.Units, block = nextPerUnit / units;
                bool outgoing = false;
                for (int o = 0; o < next.Units && !outgoing; o++)
                    for (int k = 0; k < block && !outgoing; k++) outgoing = next.Data[o * nextPerUnit + j * block + k] != 0;
                alive[i][j] = incoming && outgoing;
            }
        }
        long nonzero = 0;
        for (int i = 0; i < n; i++)
        {
            var (data, units, size) = layers[i];
            int perUnit = size / units, inputs = i == 0 ? perUnit : alive[i - 1].Length, block = perUnit / inputs;
            for (int j = 0; j < units; j++)
                for (int k = 0; k < perUnit; k++)
                    if (alive[i][j] && (i == 0 || alive[i - 1][k / block]) && data[j * perUnit + k] != 0) nonzero++;
        }
        return (alive, nonzero);
    }

    private static double MaxDifference(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return a.forward(x).sub(b.forward(x)).abs().max().item<float>();
    }

    private static long DenseParameters(NetworkShape s) => s.Model == "mlp"
        ? 784 * s.Widths[0] + s.Widths[0] + s.Widths[0] * s.Widths[1] + s.Widths[1] + s.Widths[1] * 10 + 10
        : 25 * s.Widths[0] + s.Widths[0] + s.Widths[0] * 25 * s.Widths[1] + s.Widths[1]
          + s.Widths[1] * 25 * s.Widths[2] + s.Widths[2] + s.Widths[2] * s.Widths[3] + s.Widths[3] + s.Widths[3] * 10 + 10;

    [Fact]
    public void A_trained_pruned_mlp_compacts_to_its_alive_nodes_with_the_same_outputs()
    {
        string path = Path.Combine(_dir, "mlp.pt");
        var settings = new TrialSettings
        {
            Params = new() { Model = "mlp", Regularizer = "l1", Lambda = 1e-4, PruneRate = 0.9, Epochs = 2 }, TrainLimit = 4_000,
        };
        var report = TrialRunner.Run(settings, new TrainingOptions("cpu", SaveModelPath: path),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(report.Layers.Sum(l => l.DeadNodes) > 0, "the trial left no dead node: nothing to compact");
        var data = Mnist;

        // The saved model is the trained one: same settings, same sparsity, same accuracy.
        using var saved = ModelFile.Load(path);
        Assert.Equal(settings, saved.Description.Settings);
        Assert.False(saved.Description.Compacted);
        Assert.Equal(report.Layers, SparsityReport.Measure(Named(saved.Network)).Layers);
        Assert.Equal(report.Accuracy, TrialRunner.Evaluate(saved.Network, data.TestX, data.TestY));

        using var compact = NodeCompaction.Compact(saved.Network);
        var (alive, nonzeroBetweenAlive) = Reference(saved.Network);

        Assert.Equal(report.Layers.Take(2).Select(l => l.Nodes - l.DeadNodes), compact.ShapeAfter.Widths);
        Assert.Equal(alive.Take(2).Select(a => (long)a.Count(x => x)), compact.ShapeAfter.Widths);
        Assert.Equal(report.Layers.Take(2).Select(l => l.DeadNodes), compact.Layers.Take(2).Select(l => l.DeadByInputs + l.DeadByOutputs));
        Assert.True(MaxDifference(saved.Network, compact.Network, data.TestX) <= 1e-4);
        Assert.Equal(report.Accuracy, TrialRunner.Evaluate(compact.Network, data.TestX, data.TestY));

        // Parameters: the original's are all dense ones; the compacted network holds exactly the nonzero weights between alive nodes.
        long zeros = report.Layers.Sum(l => l.ZeroWeights);
        Assert.Equal(new ParameterCount(266_610, 266_200, 266_200 - zeros), compact.Before);
        Assert.Equal(nonzeroBetweenAlive, compact.After.NonzeroWeights);
        Assert.Equal(nonzeroBetweenAlive, compact.Network.Layers.Sum(l => l.Weight.count_nonzero().item<long>()));
        Assert.Equal(DenseParameters(compact.ShapeAfter), compact.After.Parameters);
        Assert.Equal(compact.Network.parameters().Sum(p => p.numel()), compact.After.Parameters);
        Assert.True(compact.After.Parameters < compact.Before.Parameters);

        // Between alive nodes the weights are copied unchanged (folding changes biases only).
        using (NewDisposeScope())
        {
            var rows1 = tensor(alive[0].Select((a, i) => (a, i)).Where(t => t.a).Select(t => (long)t.i).ToArray());
            var rows2 = tensor(alive[1].Select((a, i) => (a, i)).Where(t => t.a).Select(t => (long)t.i).ToArray());
            var original = saved.Network.Layers[1].Weight.index_select(0, rows2).index_select(1, rows1);
            Assert.True(original.allclose(compact.Network.Layers[1].Weight, rtol: 0, atol: 0));
        }

        // Round trip through the file format.
        string compactPath = Path.Combine(_dir, "mlp.compact.pt");
        ModelFile.Save(compact.Network, saved.Description with { Compacted = true, CompactedFrom = saved.Path }, compactPath);
        Assert.True(File.Exists(Path.Combine(_dir, "mlp.compact.json")));
        using var back = ModelFile.Load(compactPath);
        Assert.Equal(compact.ShapeAfter, back.Network.Shape);
        Assert.True(back.Description.Compacted);
        Assert.Equal(saved.Path, back.Description.CompactedFrom);
        Assert.Equal(settings, back.Description.Settings);
        Assert.Equal(0, MaxDifference(compact.Network, back.Network, data.TestX));
    }

    [Fact]
    public void CompactFile_saves_the_compacted_model_and_reports_sizes_accuracy_agreement_and_latency()
    {
        string path = Path.Combine(_dir, "m.pt");
        var settings = new TrialSettings
        {
            Params = new() { Model = "mlp", Regularizer = "l1", Lambda = 1e-4, PruneRate = 0.9, Epochs = 1 }, TrainLimit = 2_000,
        };
        var trained = TrialRunner.Run(settings, new TrainingOptions("cpu", SaveModelPath: path),
            cancellationToken: TestContext.Current.CancellationToken);

        var report = CompactionReport.CompactFile(path, Path.Combine(_dir, "out", "small.pt"), passes: 2);

        Assert.Equal("mlp", report.Model);
        Assert.Equal(Path.Combine(_dir, "out", "small.pt"), report.Output);
        Assert.Equal("mnist10k", report.Dataset);
        Assert.Equal(2_000, report.TestImages);
        Assert.Equal([300L, 100L], report.WidthsBefore);
        Assert.Equal(trained.Layers.Take(2).Select(l => l.Nodes - l.DeadNodes), report.WidthsAfter);
        Assert.Equal(trained.Accuracy, report.AccuracyBefore);
        Assert.Equal(report.AccuracyBefore, report.AccuracyAfter);
        Assert.InRange(report.MaxLogitDifference, 0, 1e-4);
        Assert.Equal(266_200 - trained.Layers.Sum(l => l.ZeroWeights), report.ParametersBefore.NonzeroWeights);
        Assert.All(new[] { report.LatencyBefore, report.LatencyAfter },
            l => Assert.True(l.Batch1Milliseconds > 0 && l.FullBatchMilliseconds > 0));
        using var small = ModelFile.Load(report.Output);
        Assert.Equal(report.WidthsAfter, small.Network.Shape.Widths);
        Assert.Equal(report.ParametersAfter.Parameters, small.Network.ParameterCount);
        Assert.Throws<ArgumentException>(() => CompactionReport.CompactFile(path, path));
    }

    [Fact]
    public void Lenet5_nodes_dead_by_inputs_are_folded_into_the_next_bias_in_conv_and_linear_layers()
    {
        string path = Path.Combine(_dir, "lenet5.pt");
        var settings = new TrialSettings
        {
            Params = new() { Model = "lenet5", Regularizer = "l2", Lambda = 1e-4, PruneRate = 0.5, Epochs = 1 }, TrainLimit = 2_000,
        };
        TrialRunner.Run(settings, new TrainingOptions("cpu", SaveModelPath: path),
            cancellationToken: TestContext.Current.CancellationToken);
        using var saved = ModelFile.Load(path);
        var net = saved.Network;
        var layers = net.Layers;
        var data = Mnist;
        // Dead by inputs, with positive biases so that their constant outputs reach the logits:
        // conv1 channel 1 (constant through pooling into conv2), conv2 channel 3 (into fc1's columns 75–99), fc1 unit 7, fc2 unit 5.
        var deadByInputs = new (int Layer, int Unit, float Bias)[] { (0, 1, 0.5f), (1, 3, 0.4f), (2, 7, 0.3f), (3, 5, 0.6f) };
        using (no_grad())
        {
            foreach (var (layer, unit, bias) in deadByInputs)
            {
                layers[layer].Weight[unit].zero_();
                layers[layer].Bias![unit].fill_(bias);
            }
            // Dead by outputs: conv1 channel 4, conv2 channel 10 (fc1's columns 250–274), fc1 unit 50, fc2 unit 60.
            layers[1].Weight[.., 4].zero_();
            layers[2].Weight[.., 250..275].zero_();
            layers[3].Weight[.., 50].zero_();
            layers[4].Weight[.., 60].zero_();
        }
        var measured = SparsityReport.Measure(Named(net));
        var (alive, nonzeroBetweenAlive) = Reference(net);

        using var compact = NodeCompaction.Compact(net);

        for (int i = 0; i < 4; i++)
        {
            Assert.True(compact.Layers[i].DeadByInputs >= 1, $"{compact.Layers[i].Name}: no node dead by inputs");
            Assert.True(compact.Layers[i].DeadByOutputs >= 1, $"{compact.Layers[i].Name}: no node dead by outputs");
            Assert.False(alive[i][deadByInputs[i].Unit]);
        }
        Assert.False(alive[0][4] || alive[1][10] || alive[2][50] || alive[3][60]);
        Assert.Equal(measured.Layers.Take(4).Select(l => l.Nodes - l.DeadNodes), compact.ShapeAfter.Widths);
        Assert.Equal(alive.Take(4).Select(a => (long)a.Count(x => x)), compact.ShapeAfter.Widths);
        Assert.Equal(nonzeroBetweenAlive, compact.After.NonzeroWeights);
        Assert.Equal(DenseParameters(compact.ShapeAfter), compact.After.Parameters);
        Assert.True(MaxDifference(net, compact.Network, data.TestX) <= 1e-4);

        string compactPath = Path.Combine(_dir, "lenet5.compact.pt");
        ModelFile.Save(compact.Network, saved.Description with { Compacted = true }, compactPath);
        using (var back = ModelFile.Load(compactPath)) Assert.Equal(0, MaxDifference(compact.Network, back.Network, data.TestX));
        // A second pass may find nodes that only the first pass left dead; the outputs stay the same.
        using (var again = NodeCompaction.Compact(compact.Network))
        {
            Assert.All(again.ShapeAfter.Widths.Zip(compact.ShapeAfter.Widths), w => Assert.True(w.First <= w.Second));
            Assert.True(MaxDifference(net, again.Network, data.TestX) <= 1e-4);
        }

        // Not vacuous: the folded constants matter. Without them (biases of the dead-by-inputs nodes at 0) the logits move.
        using (no_grad())
            foreach (var (layer, unit, _) in deadByInputs) layers[layer].Bias![unit].zero_();
        Assert.True(MaxDifference(net, compact.Network, data.TestX) > 1e-2);
    }

    [Fact]
    public void A_layer_whose_every_node_is_dead_keeps_one_zero_node_and_the_network_its_constant_output()
    {
        using var net = new NetworkShape("mlp", [4, 3]).Build();
        var layers = net.Layers;
        using (no_grad())
        {
            // every unit of fc2 dead by inputs, so every unit of fc1 dead by outputs
            layers[1].Weight.zero_();
            layers[1].Bias!.copy_(tensor(new[] { 0.5f, -0.2f, 1.5f })); // relu: 0.5, 0, 1.5 reach the outputs as constants
        }
        using var compact = NodeCompaction.Compact(net);

        Assert.Equal([1L, 1L], compact.ShapeAfter.Widths);
        Assert.Equal([4L, 3L], compact.Layers.Take(2).Select(l => l.DeadByInputs + l.DeadByOutputs));
        Assert.Equal(0, compact.After.NonzeroWeights);
        var x = Mnist.TestX.narrow(0, 0, 50);
        Assert.True(MaxDifference(net, compact.Network, x) <= 1e-5);
        using (no_grad())
        using (var y = net.forward(x))
            Assert.True(y.sub(y[0]).abs().max().item<float>() == 0, "the network's output should not depend on its input");
    }

    [Fact]
    public void A_trained_mlp_of_three_hidden_layers_compacts_to_the_same_outputs()
    {
        var settings = new TrialSettings
        {
            Params = new() { Model = "mlp[128,64,32]", Regularizer = "l1", Lambda = 1e-3, PruneRate = 0.95, Epochs = 2 },
            TrainLimit = 4_000,
        };
        string dir = Directory.CreateTempSubdirectory("sweep-deep-").FullName;
        try
        {
            string path = Path.Combine(dir, "deep.pt");
            var report = TrialRunner.Run(settings, new TrainingOptions("cpu", 1, path),
                cancellationToken: TestContext.Current.CancellationToken);
            using var saved = ModelFile.Load(path);
            Assert.Equal(new NetworkShape("mlp", [128, 64, 32]), saved.Network.Shape);

            using var compact = NodeCompaction.Compact(saved.Network);

            long dead = report.Layers.Sum(l => l.DeadNodes);
            Assert.True(dead > 0, "a 95 % pruned network should have dead nodes");
            Assert.Equal(128 + 64 + 32 - dead, compact.ShapeAfter.Widths.Sum());
            Assert.True(MaxDifference(saved.Network, compact.Network, Mnist.TestX) <= 1e-4);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_dense_network_loses_no_node()
    {
        using var net = NetworkShape.Full("lenet5").Build();
        using var compact = NodeCompaction.Compact(net);
        Assert.Equal(NetworkShape.Full("lenet5"), compact.ShapeAfter);
        Assert.Equal(compact.Before, compact.After);
        Assert.Equal(0, MaxDifference(net, compact.Network, Mnist.TestX.narrow(0, 0, 100)));
    }

    [Fact]
    public void Loading_anything_but_a_saved_model_names_the_file()
    {
        string missing = Path.Combine(_dir, "missing.pt");
        Assert.Equal($"{missing}: file not found", Assert.Throws<ModelFileException>(() => ModelFile.Load(missing)).Message);

        string lone = Path.Combine(_dir, "lone.pt");
        File.WriteAllText(lone, "not weights");
        var e = Assert.Throws<ModelFileException>(() => ModelFile.Load(lone));
        Assert.Equal(lone, e.Path);
        Assert.Contains("lone.json is missing", e.Message);

        File.WriteAllText(Path.Combine(_dir, "lone.json"), "{ \"format\": \"sweep-model/1\", \"model\": \"mlp\", \"widths\": [300, 100] }");
        e = Assert.Throws<ModelFileException>(() => ModelFile.Load(lone));
        Assert.Equal(lone, e.Path);
        Assert.Contains("not the weights of a mlp 784→300→100→10", e.Message);

        File.WriteAllText(Path.Combine(_dir, "lone.json"), "{ \"format\": \"sweep-model/1\", \"model\": \"resnet\", \"widths\": [] }");
        e = Assert.Throws<ModelFileException>(() => ModelFile.Load(lone));
        Assert.Equal(Path.Combine(_dir, "lone.json"), e.Path);
        Assert.Contains("unknown model 'resnet'", e.Message);

        // A lenet5's weights under an mlp's description.
        string lenet = Path.Combine(_dir, "lenet.pt");
        using (var net = NetworkShape.Full("lenet5").Build()) ModelFile.Save(net, new ModelDescription(), lenet);
        File.WriteAllText(Path.Combine(_dir, "lenet.json"),
            "{ \"format\": \"sweep-model/1\", \"model\": \"mlp\", \"widths\": [300, 100] }");
        Assert.Equal(lenet, Assert.Throws<ModelFileException>(() => ModelFile.Load(lenet)).Path);

        Assert.Contains("is a directory", Assert.Throws<ModelFileException>(() => ModelFile.Load(_dir)).Message);
    }
}
