using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Training.Compaction;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sweep.Training.Models;

/// <summary>
/// <c>vgg</c>: the CIFAR VGGs (<see cref="VggConfig"/>): 3×3 convolutions with padding 1, batch norm (optional) and ReLU,
/// 2×2 max-pools, then a classifier of fully connected layers with ReLU and the output layer. The prunable tensors are
/// every convolution's and linear layer's weight (batch norm's scale and shift are neither regularized nor pruned); a
/// hidden node is a convolution's output channel (a filter) or a classifier unit. A filter is dead when all its incoming
/// weights or all its outgoing weights are zero; with batch norm after it, a filter dead by its inputs still outputs
/// the constant relu(BN(0)), which reaches the next layer (docs/algorithm.md). Trials train one per slot.
/// </summary>
public sealed class VggFamily : ModelFamily
{
    public override string Name => "vgg";
    public override IReadOnlyList<long> Widths(ModelSpec model) => model.Widths!.Select(w => (long)w).ToArray();
    public override bool TakesDepth(int hiddenLayers) => hiddenLayers >= 1;

    // The layer names depend on how many of the hidden layers are convolutions, which a shape's architecture says.
    public override IReadOnlyList<string> LayerNames(int hiddenLayers) =>
        throw new NotSupportedException("a vgg's layer names depend on its architecture; use NetworkShape.LayerNames");

    public override PrunableNetwork Build(NetworkShape shape) => new VggNetwork(shape);

    public override string Describe(NetworkShape shape) =>
        $"{shape.Architecture} {string.Join('×', shape.Input)} → {string.Join("→", shape.Widths)} → {shape.Classes}";

    /// <summary>The configuration of a shape's architecture.</summary>
    public static VggConfig Config(NetworkShape shape) =>
        ModelSpec.Parse(shape.Architecture ?? throw new ArgumentException("a vgg shape needs its architecture")).Vgg!;

    /// <summary>The prunable layers' names: conv1 … convN, then fc1 … fc(k+1).</summary>
    public static IReadOnlyList<string> Names(VggConfig config)
    {
        int convs = config.Layers.Count(l => l != VggConfig.Pool);
        return
        [
            .. Enumerable.Range(1, convs).Select(i => $"conv{i}"),
            .. Enumerable.Range(1, config.Classifier.Count + 1).Select(i => $"fc{i}"),
        ];
    }
}

/// <summary>A VGG at its shape's widths.</summary>
public sealed class VggNetwork : PrunableNetwork
{
    private readonly List<(Conv2d Conv, BatchNorm2d? Norm, bool PoolAfter)> _features = [];
    private readonly List<Linear> _classifier = [];
    private readonly IReadOnlyList<string> _names;
    private static readonly long[] Pool = [2, 2];

    public VggNetwork(NetworkShape shape) : base(shape)
    {
        var config = VggFamily.Config(shape);
        if (ModelSpec.Parse(shape.Architecture!).InputProblem(shape.Input) is { } problem)
            throw new InvalidSettingException("model", problem);
        _names = VggFamily.Names(config);
        var widths = shape.Widths;
        int convs = config.Layers.Count(l => l != VggConfig.Pool);
        if (widths.Count != convs + config.Classifier.Count)
            throw new ArgumentException(
                $"{shape.Architecture} has {convs + config.Classifier.Count} hidden layers, got {widths.Count} widths");
        long channels = shape.Input[0];
        int w = 0;
        for (int i = 0; i < config.Layers.Count; i++)
        {
            if (config.Layers[i] == VggConfig.Pool) continue;
            bool poolAfter = i + 1 < config.Layers.Count && config.Layers[i + 1] == VggConfig.Pool;
            var conv = nn.Conv2d(channels, widths[w], 3, padding: 1);
            register_module($"conv{w + 1}", conv);
            BatchNorm2d? norm = null;
            if (config.BatchNorm)
            {
                norm = nn.BatchNorm2d(widths[w]);
                register_module($"bn{w + 1}", norm);
            }
            _features.Add((conv, norm, poolAfter));
            channels = widths[w];
            w++;
        }
        long side = (long)(shape.Input[1] >> config.Pools) * (shape.Input[2] >> config.Pools);
        long inputs = channels * side;
        for (int j = 0; j <= config.Classifier.Count; j++)
        {
            long outputs = j < config.Classifier.Count ? widths[w + j] : shape.Classes;
            var fc = nn.Linear(inputs, outputs);
            register_module($"fc{j + 1}", fc);
            _classifier.Add(fc);
            inputs = outputs;
        }
    }

    public override IReadOnlyList<PrunableLayer> Layers =>
    [
        .. _features.Select((f, i) => new PrunableLayer(_names[i], f.Conv.weight!, f.Conv.bias, false)),
        .. _classifier.Select((l, j) => new PrunableLayer(_names[_features.Count + j], l.weight!, l.bias, j == _classifier.Count - 1)),
    ];

    /// <summary>Each convolution's batch norm (null without batch norm), in order.</summary>
    internal IReadOnlyList<BatchNorm2d?> Norms => _features.Select(f => f.Norm).ToArray();

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var h = x.view(-1, Shape.Input[0], Shape.Input[1], Shape.Input[2]);
        foreach (var (conv, norm, poolAfter) in _features)
        {
            h = SafeConvolution.Conv2d(h, conv.weight!, conv.bias, padding: 1);
            if (norm is not null) h = norm.forward(h);
            h = h.relu_();
            if (poolAfter) h = nn.functional.max_pool2d(h, Pool);
        }
        h = h.flatten(1);
        for (int j = 0; j < _classifier.Count; j++)
        {
            h = _classifier[j].forward(h);
            if (j < _classifier.Count - 1) h = h.relu_();
        }
        return h.MoveToOuterDisposeScope();
    }
}
