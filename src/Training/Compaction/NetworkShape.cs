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

    /// <summary>The input of one sample, [channels, height, width] (MNIST's [1, 28, 28] unless a dataset says otherwise).</summary>
    public IReadOnlyList<int> Input { get; }

    /// <summary>The classes of the output layer.</summary>
    public int Classes { get; }

    /// <summary>Values per input sample: channels × height × width.</summary>
    public int Inputs => Input[0] * Input[1] * Input[2];

    /// <summary>MNIST's 1×28×28 images of 10 classes: the input of every shape that names none.</summary>
    public static IReadOnlyList<int> MnistInput { get; } = [1, 28, 28];

    /// <exception cref="ArgumentException">An unknown model, the wrong number of widths, or a width below 1.</exception>
    /// <summary>
    /// For families whose layout is more than widths (vgg: where the pools are, batch norm): the model's text; else null.
    /// </summary>
    public string? Architecture { get; init; }

    public NetworkShape(string model, IReadOnlyList<long> widths, IReadOnlyList<int>? input = null, int classes = 10)
    {
        input ??= MnistInput;
        if (input.Count != 3 || input.Any(d => d < 1)) throw new ArgumentException("an input is [channels, height, width], each ≥ 1");
        if (classes < 2) throw new ArgumentException($"at least 2 classes, got {classes}");
        Input = input.ToArray();
        Classes = classes;
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
    public static NetworkShape Full(string model, IReadOnlyList<int>? input = null, int classes = 10)
    {
        var spec = ModelSpec.Parse(model);
        return new(spec.Family, ModelFamilies.Get(model).Widths(spec), input, classes)
        {
            Architecture = spec.Vgg is null ? null : spec.Text,
        };
    }

    /// <summary>The trained shape of a model on a dataset: its input and classes come from the data.</summary>
    /// <exception cref="ArgumentException">The model cannot take the dataset's images (the message says why).</exception>
    public static NetworkShape For(string model, Data.Dataset data) =>
        Full(model, [data.Channels, data.Rows, data.Columns], data.Classes);

    public ModelFamily Family => ModelFamilies.Get(Model);

    /// <summary>The network of this shape (fresh parameters).</summary>
    public PrunableNetwork Build() => Family.Build(this);

    /// <summary>The prunable layers' names, in order (the same as <see cref="PrunableNetwork.Layers"/>).</summary>
    public IReadOnlyList<string> LayerNames =>
        Architecture is null ? Family.LayerNames(Widths.Count) : VggFamily.Names(VggFamily.Config(this));

    public bool Equals(NetworkShape? other) => other is not null && Model == other.Model && Widths.SequenceEqual(other.Widths)
        && Input.SequenceEqual(other.Input) && Classes == other.Classes && Architecture == other.Architecture;

    public override int GetHashCode() => Widths.Aggregate(HashCode.Combine(Model, Classes, Inputs), HashCode.Combine);

    /// <summary>"mlp 784→300→100→10", "lenet5 conv 1→6→16, fc 400→120→84→10".</summary>
    public override string ToString() => Family.Describe(this);
}
