using Sweep.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sweep.Training.Compaction;

/// <summary>
/// A plain dense <c>mlp</c> or <c>lenet5</c> of any hidden widths (<see cref="NetworkShape"/>): the same layers,
/// activations and pooling as <see cref="Mlp"/> and <see cref="LeNet5"/>, and the same parameter names
/// (conv1.weight, …, fc3.bias), so a trained model's file loads into the full shape and a compacted one into its own.
/// </summary>
public sealed class DenseNetwork : nn.Module<Tensor, Tensor>
{
    // Field names are the parameter names of the saved files; the convolutions exist only for lenet5.
    private readonly Conv2d? conv1;
    private readonly Conv2d? conv2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;
    private static readonly long[] Pool = [2, 2];

    public NetworkShape Shape { get; }

    public DenseNetwork(NetworkShape shape) : base(shape.Model)
    {
        Shape = shape;
        var w = shape.Widths;
        if (shape.Model == "mlp")
        {
            fc1 = nn.Linear(784, w[0]);
            fc2 = nn.Linear(w[0], w[1]);
            fc3 = nn.Linear(w[1], 10);
        }
        else
        {
            conv1 = nn.Conv2d(1, w[0], 5, padding: 2);
            conv2 = nn.Conv2d(w[0], w[1], 5);
            fc1 = nn.Linear(w[1] * 25, w[2]);
            fc2 = nn.Linear(w[2], w[3]);
            fc3 = nn.Linear(w[3], 10);
        }
        RegisterComponents();
    }

    /// <summary>The layers in order, named as in <see cref="NetworkShape.LayerNames"/>; built on each call (moving the module replaces its parameters).</summary>
    public IReadOnlyList<PrunableLayer> Layers => conv1 is null
        ? [new("fc1", fc1.weight!, fc1.bias, false), new("fc2", fc2.weight!, fc2.bias, false), new("fc3", fc3.weight!, fc3.bias, true)]
        :
        [
            new("conv1", conv1.weight!, conv1.bias, false),
            new("conv2", conv2!.weight!, conv2.bias, false),
            new("fc1", fc1.weight!, fc1.bias, false),
            new("fc2", fc2.weight!, fc2.bias, false),
            new("fc3", fc3.weight!, fc3.bias, true),
        ];

    /// <summary>Dense parameters: every weight and bias.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    public override Tensor forward(Tensor x)
    {
        if (conv1 is null)
        {
            using var h1 = fc1.forward(x).relu_();
            using var h2 = fc2.forward(h1).relu_();
            return fc3.forward(h2);
        }
        using var image = x.view(-1, 1, 28, 28);
        using var c1 = conv1.forward(image).relu_();
        using var p1 = nn.functional.max_pool2d(c1, Pool);
        using var c2 = conv2!.forward(p1).relu_();
        using var p2 = nn.functional.max_pool2d(c2, Pool);
        using var flat = p2.flatten(1);
        using var f1 = fc1.forward(flat).relu_();
        using var f2 = fc2.forward(f1).relu_();
        return fc3.forward(f2);
    }
}
