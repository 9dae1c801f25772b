using Sweep.Core.Models;
using Sweep.Training.Models;

namespace Sweep.Training.Compaction;

/// <summary>
/// A model family and the width of each hidden layer (<see cref="ModelFamily.Widths"/> for trained networks;
/// compacted ones are narrower). Every width is ≥ 1.
/// </summary>
public sealed record NetworkShape
{
    /// <summary>The model family's name.</summary>
    public string Model { get; }

    /// <summary>The width of every hidden layer in order: units of a Linear, output channels of a Conv.</summary>
    public IReadOnlyList<long> Widths { get; }

    /// <exception cref="ArgumentException">An unknown model, the wrong number of widths, or a width below 1.</exception>
    public NetworkShape(string model, IReadOnlyList<long> widths)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(widths);
        var family = ModelFamilies.Get(model);
        if (family.Name != model) throw new ArgumentException($"'{model}' is not a model family (a shape names the family, e.g. mlp)");
        if (!family.TakesDepth(widths.Count)) throw new ArgumentException($"{model} cannot have {widths.Count} hidden layers");
        foreach (long w in widths)
            if (w < 1) throw new ArgumentException($"every hidden width must be ≥ 1, got {w}");
        Model = model;
        Widths = widths.ToArray();
    }

    /// <summary>The trained shape of a model (its text: "mlp" is mlp 300, 100; "mlp[500,150]"; lenet5 6, 16, 120, 84).</summary>
    public static NetworkShape Full(string model)
    {
        var spec = ModelSpec.Parse(model);
        return new(spec.Family, ModelFamilies.Get(model).Widths(spec));
    }

    public ModelFamily Family => ModelFamilies.Get(Model);

    /// <summary>The network of this shape (fresh parameters).</summary>
    public PrunableNetwork Build() => Family.Build(this);

    /// <summary>The prunable layers' names, in order (the same as <see cref="PrunableNetwork.Layers"/>).</summary>
    public IReadOnlyList<string> LayerNames => Family.LayerNames(Widths.Count);

    public bool Equals(NetworkShape? other) => other is not null && Model == other.Model && Widths.SequenceEqual(other.Widths);

    public override int GetHashCode() => Widths.Aggregate(Model.GetHashCode(), HashCode.Combine);

    /// <summary>"mlp 784→300→100→10", "lenet5 conv 1→6→16, fc 400→120→84→10".</summary>
    public override string ToString() => Family.Describe(Widths);
}
