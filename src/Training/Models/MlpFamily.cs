using Sweep.Training.Compaction;
using Sweep.Training.Fusion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sweep.Training.Models;

/// <summary>
/// <c>mlp</c>: LeNet-300-100, 784 → 300 → 100 → 10 with ReLU (266,200 weights, 400 hidden nodes). Trials fuse: a slot
/// trains a group of them as one batched model (<see cref="FusedMlp"/>).
/// </summary>
public sealed class MlpFamily : ModelFamily
{
    /// <summary>Input features (28×28 pixels) and classes.</summary>
    public const int Inputs = 784, Classes = 10;

    public override string Name => "mlp";
    public override IReadOnlyList<long> FullWidths { get; } = [300, 100];
    public override IReadOnlyList<string> LayerNames { get; } = ["fc1", "fc2", "fc3"];
    public override bool Fuses => true;

    public override PrunableNetwork Build(NetworkShape shape) => new MlpNetwork(shape);

    public override string Describe(IReadOnlyList<long> widths) => $"mlp {Inputs}→{widths[0]}→{widths[1]}→{Classes}";

    public override FusedOutcome[] Train(IReadOnlyList<FusedTrial> trials, TrainingOptions options) => FusedMlp.Run(trials, options);
}

/// <summary>The mlp at hidden widths [h1, h2].</summary>
public sealed class MlpNetwork : PrunableNetwork
{
    // Field names are the parameter names of the saved files.
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;

    public MlpNetwork(NetworkShape shape) : base(shape)
    {
        var w = shape.Widths;
        fc1 = nn.Linear(MlpFamily.Inputs, w[0]);
        fc2 = nn.Linear(w[0], w[1]);
        fc3 = nn.Linear(w[1], MlpFamily.Classes);
        RegisterComponents();
    }

    public override IReadOnlyList<PrunableLayer> Layers =>
    [
        new("fc1", fc1.weight!, fc1.bias, false),
        new("fc2", fc2.weight!, fc2.bias, false),
        new("fc3", fc3.weight!, fc3.bias, true),
    ];

    public override Tensor forward(Tensor x)
    {
        using var h1 = fc1.forward(x).relu_();
        using var h2 = fc2.forward(h1).relu_();
        return fc3.forward(h2);
    }
}
