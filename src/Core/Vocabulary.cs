namespace Sweep.Core;

/// <summary>A regularizer on the prunable weights (docs/algorithm.md): none, λ·Σ|w|, (λ/2)·Σw², or both.</summary>
public enum RegularizerKind { None, L1, L2, L1L2 }

/// <summary>How weights are chosen at a pruning event.</summary>
public enum PruneMethod { Stochastic, Magnitude, None }

/// <summary>How a sweep chooses its trials.</summary>
public enum SearchStrategy { Grid, Random, Nsga2 }

/// <summary>A maximized objective of a Pareto front.</summary>
public enum Objective { Accuracy, WeightSparsity, NodeSparsity }

/// <summary>
/// A closed vocabulary: the enum values and the names specs, files and flags write them with. Parsing happens once, at
/// the edge (the spec parser, a flag, the trainer's entry); everything inside works with the enum.
/// </summary>
public sealed class Vocabulary<T> where T : struct, Enum
{
    private readonly Dictionary<string, T> _byName;
    private readonly Dictionary<T, string> _names;

    public Vocabulary(string kind, params (T Value, string Name)[] entries)
    {
        Kind = kind;
        _byName = entries.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);
        _names = entries.ToDictionary(e => e.Value, e => e.Name);
        Names = entries.Select(e => e.Name).ToArray();
    }

    /// <summary>What the values are called in messages ("regularizer", "prune method").</summary>
    public string Kind { get; }

    /// <summary>Every name, in declaration order.</summary>
    public IReadOnlyList<string> Names { get; }

    public string Name(T value) => _names[value];

    public bool TryParse(string? name, out T value) => _byName.TryGetValue(name ?? "", out value);

    /// <summary>The value of <paramref name="name"/>; an unknown name throws, naming the known ones.</summary>
    public T Parse(string? name) => TryParse(name, out var value)
        ? value
        : throw new ArgumentException($"unknown {Kind} '{name}' (known: {string.Join(", ", Names)})");
}

/// <summary>Sweep's closed vocabularies. Model names are those of the model families the engine registers.</summary>
public static class Vocabularies
{
    public static Vocabulary<RegularizerKind> Regularizers { get; } = new("regularizer",
        (RegularizerKind.None, "none"), (RegularizerKind.L1, "l1"), (RegularizerKind.L2, "l2"), (RegularizerKind.L1L2, "l1l2"));

    public static Vocabulary<PruneMethod> PruneMethods { get; } = new("prune method",
        (PruneMethod.Stochastic, "stochastic"), (PruneMethod.Magnitude, "magnitude"), (PruneMethod.None, "none"));

    public static Vocabulary<SearchStrategy> Strategies { get; } = new("strategy",
        (SearchStrategy.Grid, "grid"), (SearchStrategy.Random, "random"), (SearchStrategy.Nsga2, "nsga2"));

    public static Vocabulary<Objective> Objectives { get; } = new("objective",
        (Objective.Accuracy, "accuracy"), (Objective.WeightSparsity, "weightSparsity"), (Objective.NodeSparsity, "nodeSparsity"));

}
