using Sweep.Core.Search;
using Sweep.Core.Models;
using Sweep.Training.Compaction;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sweep.Training.Models;

/// <summary>
/// <c>lenet5</c>: conv 1→6 (5×5, pad 2), max-pool 2, conv 6→16 (5×5), max-pool 2, 400 → 120 → 84 → 10, ReLU after
/// every hidden layer. Hidden widths [c1, c2, h1, h2]. Trials train one at a time.
/// </summary>
public sealed class LeNet5Family : ModelFamily
{
    public override string Name => "lenet5";
    private static readonly long[] Full = [6, 16, 120, 84];
    private static readonly string[] Names = ["conv1", "conv2", "fc1", "fc2", "fc3"];

    public override IReadOnlyList<long> Widths(ModelSpec model) => Full;
    public override bool TakesDepth(int hiddenLayers) => hiddenLayers == Full.Length;
    public override IReadOnlyList<string> LayerNames(int hiddenLayers) => Names;

    public override PrunableNetwork Build(NetworkShape shape) => new LeNet5Network(shape);

    public override string Describe(NetworkShape shape)
    {
        var w = shape.Widths;
        return $"lenet5 conv 1→{w[0]}→{w[1]}, fc {w[1] * 25}→{w[2]}→{w[3]}→{shape.Classes}";
    }
}

/// <summary>LeNet-5 at hidden widths [c1, c2, h1, h2] on 28×28 single-channel images.</summary>
public sealed class LeNet5Network : PrunableNetwork
{
    // Field names are the parameter names of the saved files.
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;
    private static readonly long[] Pool = [2, 2];

    public LeNet5Network(NetworkShape shape) : base(shape)
    {
        if (ModelSpec.Parse("lenet5").InputProblem(shape.Input) is { } problem) throw new InvalidSettingException("model", problem);
        var w = shape.Widths;
        conv1 = nn.Conv2d(1, w[0], 5, padding: 2);
        conv2 = nn.Conv2d(w[0], w[1], 5);
        fc1 = nn.Linear(w[1] * 25, w[2]);
        fc2 = nn.Linear(w[2], w[3]);
        fc3 = nn.Linear(w[3], shape.Classes);
        RegisterComponents();
    }

    public override IReadOnlyList<PrunableLayer> Layers =>
    [
        new("conv1", conv1.weight!, conv1.bias, false),
        new("conv2", conv2.weight!, conv2.bias, false),
        new("fc1", fc1.weight!, fc1.bias, false),
        new("fc2", fc2.weight!, fc2.bias, false),
        new("fc3", fc3.weight!, fc3.bias, true),
    ];

    public override Tensor forward(Tensor x)
    {
        using var image = x.view(-1, 1, 28, 28);
        using var c1 = SafeConvolution.Conv2d(image, conv1.weight!, conv1.bias, padding: 2).relu_();
        using var p1 = nn.functional.max_pool2d(c1, Pool);
        using var c2 = SafeConvolution.Conv2d(p1, conv2.weight!, conv2.bias).relu_();
        using var p2 = nn.functional.max_pool2d(c2, Pool);
        using var flat = p2.flatten(1);
        using var h1 = fc1.forward(flat).relu_();
        using var h2 = fc2.forward(h1).relu_();
        return fc3.forward(h2);
    }
}
