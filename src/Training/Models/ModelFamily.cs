using Sweep.Core.Models;
using Sweep.Training.Compaction;
using Sweep.Training.Fusion;

namespace Sweep.Training.Models;

/// <summary>
/// A model family: its architecture (built at any hidden widths), the widths a trial trains, and its trainer. The
/// engine picks the family once, by the trial's model name, from <see cref="ModelFamilies"/>; adding a family is one
/// file with one subclass and its entry there.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>The family's name in specs ("mlp").</summary>
    public abstract string Name { get; }

    /// <summary>The hidden widths of a model of this family: units of a Linear, output channels of a Conv.</summary>
    public abstract IReadOnlyList<long> Widths(ModelSpec model);

    /// <summary>Whether a network of this family can have this many hidden layers.</summary>
    public abstract bool TakesDepth(int hiddenLayers);

    /// <summary>The prunable layers' names, in order, for a network with this many hidden layers.</summary>
    public abstract IReadOnlyList<string> LayerNames(int hiddenLayers);

    /// <summary>The network at the shape's widths (fresh parameters, not initialized from a trial's seed).</summary>
    public abstract PrunableNetwork Build(NetworkShape shape);

    /// <summary>The architecture in one line, e.g. "mlp 784→300→100→10".</summary>
    public abstract string Describe(NetworkShape shape);

    /// <summary>
    /// The numbers of hidden layers at which this family's trials fuse: a slot gives them a place each up to its fusion
    /// width, and its trainer takes a group that shares a fusion key (<see cref="FusedTraining.Key"/>). Other models
    /// train one trial per slot.
    /// </summary>
    public virtual IReadOnlyList<int> FusingDepths => [];

    /// <summary>Whether trials of this model fuse.</summary>
    public bool Fuses(ModelSpec model) => FusingDepths.Contains(Widths(model).Count);

    /// <summary>
    /// Trains the trials: a group (of a model that <see cref="Fuses"/>) or a single trial. One outcome per trial, in order; a trial
    /// that diverges or is cancelled ends alone.
    /// </summary>
    public virtual FusedOutcome[] Train(IReadOnlyList<FusedTrial> trials, TrainingOptions options) =>
        trials.Select(t => SingleTrialTrainer.Run(t, options, alone: trials.Count == 1)).ToArray();
}

/// <summary>Every model family the engine can train, by name.</summary>
public static class ModelFamilies
{
    public static IReadOnlyList<ModelFamily> All { get; } = [new MlpFamily(), new LeNet5Family(), new VggFamily()];

    private static readonly Dictionary<string, ModelFamily> ByName = All.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>The family of a model (its text, e.g. "mlp" or "mlp[500,150]"); anything else throws, saying why.</summary>
    /// <exception cref="ArgumentException">Not a model, or a family this engine has no trainer for.</exception>
    public static ModelFamily Get(string model)
    {
        if (ByName.TryGetValue(model, out var named)) return named;   // a family's own name (what a shape holds)
        var spec = ModelSpec.Parse(model);
        return ByName.GetValueOrDefault(spec.Family)
            ?? throw new ArgumentException($"unknown model '{spec.Family}' (known: {string.Join(", ", ByName.Keys)})");
    }

    /// <summary>The family of a model, or null when the text is not a model this engine trains.</summary>
    public static ModelFamily? Find(string? model) =>
        ModelSpec.TryParse(model, out _) is { } spec ? ByName.GetValueOrDefault(spec.Family) : null;

    /// <summary>
    /// What a silo advertises with its slots: "family/depth" for each number of hidden layers at which a family's trials
    /// fuse ("mlp/2"); <see cref="FusingKey"/> gives a model's.
    /// </summary>
    public static IReadOnlyList<string> Fusing { get; } =
        All.SelectMany(f => f.FusingDepths.Select(d => $"{f.Name}/{d}")).ToArray();

    /// <summary>A model's entry in <see cref="Fusing"/> terms: its family and number of hidden layers.</summary>
    public static string FusingKey(ModelSpec model) => ModelSpec.FusingKey(model);
}
