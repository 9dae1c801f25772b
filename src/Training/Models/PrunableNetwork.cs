using TorchSharp;
using TorchSharp.Modules;
using Sweep.Training.Compaction;
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
/// A feed-forward network of one model family (<see cref="ModelFamily"/>) at some hidden widths (<see cref="Shape"/>),
/// whose Linear and Conv weights are all prunable. Layers are listed in order, so a hidden unit of layer i has its
/// incoming weights in layer i and its outgoing weights in layer i + 1. A trained network has its family's full widths;
/// a compacted one is narrower. Parameter names (conv1.weight, …, fc3.bias) are those of the saved files.
/// </summary>
public abstract class PrunableNetwork(NetworkShape shape) : nn.Module<Tensor, Tensor>(shape.Model)
{
    public NetworkShape Shape { get; } = shape;

    /// <summary>The prunable layers in order; built on each call (moving the module to a device replaces its parameters).</summary>
    public abstract IReadOnlyList<PrunableLayer> Layers { get; }

    /// <summary>Dense parameters: every weight and bias.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// The framework default (kaiming-uniform with a = √5, i.e. U(±1/√fan_in) for weights and biases), drawn from the trial's
    /// generator.
    /// </summary>
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

    /// <summary>The full (trained) network of a model family.</summary>
    public static PrunableNetwork Create(string model) => NetworkShape.Full(model).Build();
}
