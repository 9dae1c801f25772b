using Sweep.Core;
using System.Text.Json.Serialization;

namespace Sweep.Core.Models;

/// <summary>The point of a sweep one trial trains: model, regularizer, λ, prune rate and the training settings.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialParameters")]
public sealed record TrialParameters
{
    [Id(0)] public string Model { get; init; } = "mlp";
    [Id(1)] public string Regularizer { get; init; } = "l2";
    [Id(2)] public double Lambda { get; init; } = 1e-4;
    [Id(3)] public double PruneRate { get; init; } = 0.9;
    [Id(4)] public string PruneMethod { get; init; } = "stochastic";
    [Id(5)] public double Temperature { get; init; } = 0.5;
    [Id(6)] public long Seed { get; init; }
    [Id(7)] public int Epochs { get; init; } = 5;
    [Id(8)] public int BatchSize { get; init; } = 64;
    [Id(9)] public double LearningRate { get; init; } = 0.05;
    [Id(10)] public double Momentum { get; init; } = 0.9;
    [Id(11)] public int Interval { get; init; } = 50;
    [Id(12)] public double RampFraction { get; init; } = 0.7;

    /// <summary><see cref="Regularizer"/> as its enum (the name must be a known one).</summary>
    [JsonIgnore] public RegularizerKind RegularizerKind => Vocabularies.Regularizers.Parse(Regularizer);

    /// <summary><see cref="PruneMethod"/> as its enum (the name must be a known one).</summary>
    [JsonIgnore] public PruneMethod PruneMethodKind => Vocabularies.PruneMethods.Parse(PruneMethod);

    /// <summary>Whether the trial has a regularizer: without one, λ means nothing (the search space records it as 0).</summary>
    [JsonIgnore] public bool IsRegularized => Regularizer != Vocabularies.Regularizers.Name(RegularizerKind.None);

    /// <summary>
    /// The one normalization of λ: without a regularizer λ means nothing and is recorded as 0 (so a grid that crosses
    /// `none` with a λ list runs that trial once, and nsga2 and the plots see one configuration).
    /// </summary>
    public TrialParameters Normalized() => IsRegularized || Lambda == 0 ? this : this with { Lambda = 0 };

    /// <summary>Whether the trial prunes: with prune method "none", its prune rate means nothing.</summary>
    [JsonIgnore] public bool IsPruned => PruneMethod != Vocabularies.PruneMethods.Name(Core.PruneMethod.None);
}

/// <summary>
/// A dataset (file paths absolute once a spec is resolved): the built-in name; a pair of files, IDX or NumPy .npy
/// (<see cref="Images"/>, <see cref="Labels"/>); or a CIFAR-10 / CIFAR-100 folder in the binary layout. <see cref="Test"/>
/// names a fixed test set; without one (and for the kinds without their own) the train set is split 80/20.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sweep.DatasetRef")]
public sealed record DatasetRef
{
    [Id(0)] public string? Name { get; init; }
    [Id(1)] public string? Images { get; init; }
    [Id(2)] public string? Labels { get; init; }
    [Id(3)] public string? Cifar10 { get; init; }
    [Id(4)] public string? Cifar100 { get; init; }
    [Id(5)] public DatasetRef? Test { get; init; }
    /// <summary>Per-channel normalization of the inputs (train and test alike); null: pixels as read.</summary>
    [Id(6)] public Normalization? Normalize { get; init; }
    /// <summary>Augment training batches: random 4-pixel-shifted crops of the zero-padded images and left-right flips.</summary>
    [Id(7)] public bool Augment { get; init; }

    /// <summary>
    /// The fusion rule's part that is the data's: trials fuse (train stacked in one slot) only on fixed inputs; the fused
    /// trainer reads the dataset's cached rows, which augmentation changes every batch. (The model's part: its family.)
    /// </summary>
    [JsonIgnore] public bool Fuses => !Augment;

    public static DatasetRef Mnist10k { get; } = new() { Name = "mnist10k" };

    public override string ToString()
    {
        string own = Name
            ?? (Cifar10 is { } ten ? $"cifar10 {ten}" : Cifar100 is { } hundred ? $"cifar100 {hundred}" : $"{Images} + {Labels}");
        if (Normalize is { } n) own += $"; normalize {n}";
        if (Augment) own += "; augment";
        return Test is { } test ? $"{own}; test {test}" : own;
    }
}

/// <summary>
/// Inputs normalized per channel, x ← (x − mean[c]) / std[c]: with the given values, or (<see cref="FromData"/>) with each
/// channel's mean and standard deviation over the train samples.
/// </summary>
[GenerateSerializer, Immutable, Alias("Sweep.Normalization")]
public sealed record Normalization
{
    [Id(0)] public IReadOnlyList<double> Mean { get; init; } = [];
    [Id(1)] public IReadOnlyList<double> Std { get; init; } = [];
    /// <summary>Measure mean and std on the train samples instead of taking them from the spec.</summary>
    [Id(2)] public bool FromData { get; init; }

    public bool Equals(Normalization? other) =>
        other is not null && FromData == other.FromData && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    public override int GetHashCode() => HashCode.Combine(FromData, Mean.Count, Mean.FirstOrDefault(), Std.FirstOrDefault());

    public override string ToString() => FromData
        ? "from the train set"
        : FormattableString.Invariant($"mean [{string.Join(", ", Mean)}], std [{string.Join(", ", Std)}]");
}
