using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Training.Models;

namespace Sweep.Training.Fusion;

/// <summary>
/// Trial fusion: several trials of the same architecture trained together as one batched model. Trials fuse when they
/// share everything but the regularizer, λ, prune rate, prune method and temperature (see <see cref="Key"/>); each
/// keeps its own masks, penalty and pruning noise, so it computes what it computes alone.
/// </summary>
public static class FusedTraining
{
    /// <summary>Whether the model's family fuses; any other model trains one trial at a time.</summary>
    public static bool Supports(string model) =>
        ModelFamilies.Find(model) is { } family && family.Fuses(ModelSpec.Parse(model));

    /// <summary>
    /// Trials with equal keys can be trained together: the same dataset and train limit, and the same value of every
    /// parameter the table marks as not fusing (model, seed, epochs, batch size, optimizer, pruning schedule; the seed
    /// fixes the shared initialization and batch order). Null when the model does not fuse, or when the dataset is
    /// augmented (the fused trainer reads the dataset's cached sparse rows, which augmentation changes every batch).
    /// </summary>
    public static string? Key(TrialSettings s) => Supports(s.Params.Model) && s.Dataset.Fuses
        ? string.Join('|', TrialParameterTable.All.Where(d => !d.Fuses).Select(d => d.Canonical(s.Params))) + $"|{s.Dataset}|{s.TrainLimit}"
        : null;

    /// <summary>
    /// Loads what the CPU path of these settings' trials will need (libtorch, the dataset's tensors and their sparse
    /// rows), so that an embedding process can do it while its silo starts. Errors are left for the trials to report.
    /// </summary>
    public static void Prepare(TrialSettings settings)
    {
        try
        {
            if (!Supports(settings.Params.Model)) return;
            var data = Data.Dataset.Load(settings.Dataset).On(TorchSharp.torch.CPU);
            SparseRows.Of(data.TrainX);
            SparseRows.Of(data.TestX);
        }
        catch (Exception)
        {
            // A missing or broken dataset fails the trials that use it, each with a clear reason.
        }
    }

    /// <summary>
    /// Trains the trials together (they must share one <see cref="Key"/>); one outcome per trial, in order. A trial that
    /// diverges or is cancelled ends alone; the others go on.
    /// </summary>
    public static FusedOutcome[] Run(IReadOnlyList<FusedTrial> trials, TrainingOptions? options = null) =>
        Run(trials, options, tensorOps: false);

    /// <summary>
    /// As <see cref="Run(IReadOnlyList{FusedTrial}, TrainingOptions?)"/>; <paramref name="tensorOps"/> forces the
    /// device-independent tensor path (the GPU's) on the CPU too.
    /// </summary>
    internal static FusedOutcome[] Run(IReadOnlyList<FusedTrial> trials, TrainingOptions? options, bool tensorOps,
        SparseTraining? sparse = null)
    {
        if (trials.Count == 0) return [];
        foreach (var t in trials) t.Settings.Validate();
        var key = Key(trials[0].Settings) ?? throw new ArgumentException($"model '{trials[0].Settings.Params.Model}' does not fuse");
        if (trials.Any(t => Key(t.Settings) != key))
            throw new ArgumentException("fused trials must share model, data, training, schedule and seed");
        options ??= new TrainingOptions();
        if ((tensorOps || sparse is not null) && ModelFamilies.Get(trials[0].Settings.Params.Model) is not MlpFamily)
            throw new ArgumentException("the tensor path and sparse training choices are the fused mlp trainer's");
        return tensorOps || sparse is not null
            ? FusedMlp.Run(trials, options, tensorOps, sparse)
            : ModelFamilies.Get(trials[0].Settings.Params.Model).Train(trials, options);
    }
}
