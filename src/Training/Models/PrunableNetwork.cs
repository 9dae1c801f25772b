using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sweep.Training.Models;

/// <summary>One prunable layer: its weight (the regularized, masked tensor), its bias, and whether it is the output.</summary>
public sealed record PrunableLayer(string Name, Parameter Weight, Parameter? Bias, bool IsOutput)
{
    public long OutUnits => Weight.shape[0];
    /// <summary>Weights per output unit (fan-in × kernel area), used by the default initialization.</summary>
    public long FanIn => Weight.numel() / Weight.shape[0];
}

/// <summary>
/// A feed-forward network whose Linear and Conv weights are all prunable. Layers are listed in order, so
/// a hidden unit of layer i has its incoming weights in layer i and its outgoing weights in layer i + 1.
/// </summary>
public abstract class PrunableNetwork(string name) : nn.Module<Tensor, Tensor>(name)
{
    public abstract IReadOnlyList<PrunableLayer> Layers { get; }

    /// <summary>The framework default (kaiming-uniform with a = √5, i.e. U(±1/√fan_in) for weights and biases), drawn from the trial's generator.</summary>
    public void Initialize(Generator generator)
    {
        using var _ = torch.no_grad();
        foreach (var layer in Layers)
        {
            double bound = 1.0 / Math.Sqrt(layer.FanIn);
            layer.Weight.uniform_(-bound, bound, generator);
            layer.Bias?.uniform_(-bound, bound, generator);
        }
    }

    public static PrunableNetwork Create(string model) => model switch
    {
        "mlp" => new Mlp(),
        "lenet5" => new LeNet5(),
        _ => throw new ArgumentException($"unknown model '{model}' (known: {string.Join(", ", Known)})"),
    };

    public static readonly IReadOnlyList<string> Known = ["mlp", "lenet5"];
}

/// <summary>LeNet-300-100: 784 → 300 → 100 → 10 with ReLU. 266,200 weights, 400 hidden nodes.</summary>
public sealed class Mlp : PrunableNetwork
{
    private readonly Linear fc1 = nn.Linear(784, 300);
    private readonly Linear fc2 = nn.Linear(300, 100);
    private readonly Linear fc3 = nn.Linear(100, 10);

    public Mlp() : base("mlp") => RegisterComponents();

    // Built on each call: moving the module to a device replaces its parameters.
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

/// <summary>LeNet-5: conv 1→6 (5×5, pad 2), pool, conv 6→16 (5×5), pool, 400 → 120 → 84 → 10.</summary>
public sealed class LeNet5 : PrunableNetwork
{
    private readonly Conv2d conv1 = nn.Conv2d(1, 6, 5, padding: 2);
    private readonly Conv2d conv2 = nn.Conv2d(6, 16, 5);
    private readonly Linear fc1 = nn.Linear(400, 120);
    private readonly Linear fc2 = nn.Linear(120, 84);
    private readonly Linear fc3 = nn.Linear(84, 10);
    private static readonly long[] Pool = [2, 2];

    public LeNet5() : base("lenet5") => RegisterComponents();

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
        using var c1 = conv1.forward(image).relu_();
        using var p1 = nn.functional.max_pool2d(c1, Pool);
        using var c2 = conv2.forward(p1).relu_();
        using var p2 = nn.functional.max_pool2d(c2, Pool);
        using var flat = p2.flatten(1);
        using var h1 = fc1.forward(flat).relu_();
        using var h2 = fc2.forward(h1).relu_();
        return fc3.forward(h2);
    }
}
