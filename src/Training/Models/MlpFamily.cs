using Sweep.Core.Models;
using Sweep.Training.Compaction;
using Sweep.Training.Fusion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sweep.Training.Models;

/// <summary>
/// <c>mlp</c>: fully connected layers with ReLU between them, inputs (a sample's C·H·W values, 784 for MNIST) → hidden
/// widths → classes. The default is LeNet-300-100
/// (widths [300, 100]: 266,200 weights, 400 hidden nodes); a spec may give any widths, <c>{"family": "mlp", "hidden":
/// [500, 150]}</c>, 1 to 16 hidden layers. Trials of two hidden layers fuse: a slot trains a group as one batched
/// model (<see cref="FusedMlp"/>); other depths train one trial per slot.
/// </summary>
public sealed class MlpFamily : ModelFamily
{
    public override string Name => "mlp";
    public override IReadOnlyList<long> Widths(ModelSpec model) => model.Widths!.Select(w => (long)w).ToArray();
    public override bool TakesDepth(int hiddenLayers) => hiddenLayers is >= 1 and <= ModelSpec.MaxDepth;
    public override IReadOnlyList<string> LayerNames(int hiddenLayers) =>
        Enumerable.Range(1, hiddenLayers + 1).Select(i => $"fc{i}").ToArray();
    public override IReadOnlyList<int> FusingDepths { get; } = [2];

    public override PrunableNetwork Build(NetworkShape shape) => new MlpNetwork(shape);

    public override string Describe(NetworkShape shape) => $"mlp {shape.Inputs}→{string.Join("→", shape.Widths)}→{shape.Classes}";

    /// <summary>The batched trainer takes two-hidden-layer mlps (in groups); other depths train one trial at a time.</summary>
    public override FusedOutcome[] Train(IReadOnlyList<FusedTrial> trials, TrainingOptions options) =>
        trials.All(t => FusedTraining.Key(t.Settings) is not null)
            ? FusedMlp.Run(trials, options)
            : base.Train(trials, options);
}

/// <summary>The mlp at hidden widths [h1, …, hn]: layers fc1 … fc(n+1).</summary>
public sealed class MlpNetwork : PrunableNetwork
{
    private readonly Linear[] _layers;

    public MlpNetwork(NetworkShape shape) : base(shape)
    {
        long[] sizes = [shape.Inputs, .. shape.Widths, shape.Classes];
        _layers = new Linear[sizes.Length - 1];
        for (int i = 0; i < _layers.Length; i++)
        {
            // Registered by name: the parameter names (fc1.weight, …) are those of the saved files.
            _layers[i] = nn.Linear(sizes[i], sizes[i + 1]);
            register_module($"fc{i + 1}", _layers[i]);
        }
    }

    public override IReadOnlyList<PrunableLayer> Layers =>
        _layers.Select((l, i) => new PrunableLayer($"fc{i + 1}", l.weight!, l.bias, i == _layers.Length - 1)).ToArray();

    public override Tensor forward(Tensor x)
    {
        var h = x;
        for (int i = 0; i < _layers.Length; i++)
        {
            var next = _layers[i].forward(h);
            if (i < _layers.Length - 1) next.relu_();
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        return h;
    }
}
