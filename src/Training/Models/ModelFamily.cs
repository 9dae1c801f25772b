using Sweep.Core;
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
    /// <summary>The model name in specs ("mlp").</summary>
    public abstract string Name { get; }

    /// <summary>The hidden widths of the trained network: units of a Linear, output channels of a Conv.</summary>
    public abstract IReadOnlyList<long> FullWidths { get; }

    /// <summary>The prunable layers' names, in order.</summary>
    public abstract IReadOnlyList<string> LayerNames { get; }

    /// <summary>The network at the shape's widths (fresh parameters, not initialized from a trial's seed).</summary>
    public abstract PrunableNetwork Build(NetworkShape shape);

    /// <summary>The architecture in one line, e.g. "mlp 784→300→100→10".</summary>
    public abstract string Describe(IReadOnlyList<long> widths);

    /// <summary>
    /// Whether trials of this family train fused: up to a slot's fusion width of trials that share a fusion key
    /// (<see cref="FusedTraining.Key"/>) train as one batched model. Families that do not fuse train one trial at a time.
    /// </summary>
    public virtual bool Fuses => false;

    /// <summary>
    /// Trains the trials: a fused group (when <see cref="Fuses"/>) or a single trial. One outcome per trial, in order; a
    /// trial that diverges or is cancelled ends alone.
    /// </summary>
    public virtual FusedOutcome[] Train(IReadOnlyList<FusedTrial> trials, TrainingOptions options) =>
        trials.Select(t => SingleTrialTrainer.Run(t, options)).ToArray();
}

/// <summary>Every model family the engine can train, by name.</summary>
public static class ModelFamilies
{
    public static IReadOnlyList<ModelFamily> All { get; } = [new MlpFamily(), new LeNet5Family()];

    private static readonly Dictionary<string, ModelFamily> ByName = All.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>The family of a model name; an unknown name throws, naming the known ones.</summary>
    public static ModelFamily Get(string model) => Find(model)
        ?? throw new ArgumentException($"unknown model '{model}' (known: {string.Join(", ", Vocabularies.Models)})");

    public static ModelFamily? Find(string? model) => model is null ? null : ByName.GetValueOrDefault(model);

    /// <summary>The names of the families whose trials fuse (what a silo advertises with its slots).</summary>
    public static IReadOnlyList<string> Fusing { get; } = All.Where(f => f.Fuses).Select(f => f.Name).ToArray();
}
