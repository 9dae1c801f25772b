using Sweep.Training.Models;

namespace Sweep.Training.Compaction;

/// <summary>
/// The hidden widths of one of the paper's architectures: <c>mlp</c> 784 → h1 → h2 → 10 (widths [h1, h2]) or
/// <c>lenet5</c> with c1 and c2 conv channels and h1, h2 fully connected units (widths [c1, c2, h1, h2]).
/// The trained models have the full widths (<see cref="Full"/>); compacted ones are narrower. Every width is ≥ 1.
/// </summary>
public sealed record NetworkShape
{
    /// <summary>"mlp" or "lenet5".</summary>
    public string Model { get; }

    /// <summary>The width of every hidden layer in order: units of a Linear, output channels of a Conv.</summary>
    public IReadOnlyList<long> Widths { get; }

    /// <exception cref="ArgumentException">An unknown model, the wrong number of widths, or a width below 1.</exception>
    public NetworkShape(string model, IReadOnlyList<long> widths)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(widths);
        int expected = model switch
        {
            "mlp" => 2,
            "lenet5" => 4,
            _ => throw new ArgumentException($"unknown model '{model}' (known: {string.Join(", ", PrunableNetwork.Known)})"),
        };
        if (widths.Count != expected) throw new ArgumentException($"{model} has {expected} hidden layers, got {widths.Count} widths");
        foreach (long w in widths)
            if (w < 1) throw new ArgumentException($"every hidden width must be ≥ 1, got {w}");
        Model = model;
        Widths = widths.ToArray();
    }

    /// <summary>The paper's model: mlp 300, 100; lenet5 6, 16, 120, 84.</summary>
    public static NetworkShape Full(string model) => model switch
    {
        "mlp" => new NetworkShape(model, [300, 100]),
        "lenet5" => new NetworkShape(model, [6, 16, 120, 84]),
        _ => throw new ArgumentException($"unknown model '{model}' (known: {string.Join(", ", PrunableNetwork.Known)})"),
    };

    /// <summary>The full shape of a trained network's architecture.</summary>
    public static NetworkShape Of(PrunableNetwork network) => network switch
    {
        Mlp => Full("mlp"),
        LeNet5 => Full("lenet5"),
        _ => throw new ArgumentException($"not one of the known models: {network.GetType().Name}"),
    };

    /// <summary>The prunable layers' names, in order (the same as <see cref="PrunableNetwork.Layers"/>).</summary>
    public IReadOnlyList<string> LayerNames => Model == "mlp" ? ["fc1", "fc2", "fc3"] : ["conv1", "conv2", "fc1", "fc2", "fc3"];

    public bool Equals(NetworkShape? other) => other is not null && Model == other.Model && Widths.SequenceEqual(other.Widths);

    public override int GetHashCode() => Widths.Aggregate(Model.GetHashCode(), HashCode.Combine);

    /// <summary>"mlp 784→300→100→10", "lenet5 conv 1→6→16, fc 400→120→84→10".</summary>
    public override string ToString() => Model == "mlp"
        ? $"mlp 784→{Widths[0]}→{Widths[1]}→10"
        : $"lenet5 conv 1→{Widths[0]}→{Widths[1]}, fc {Widths[1] * 25}→{Widths[2]}→{Widths[3]}→10";
}
