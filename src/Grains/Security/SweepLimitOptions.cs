using System.Text.Json;
using Sweep.Core;
using Sweep.Core.Models;
using Sweep.Core.Search;
using static System.FormattableString;

namespace Sweep.Grains.Security;

/// <summary>
/// The operator's caps on what one sweep may ask (section "Sweep:Limits"). A spec asking more is refused on submit; a
/// spec that does not say gets the cap. Unset = no cap (a laptop's own silos).
/// </summary>
public sealed class SweepLimitOptions : IValidatedOptions
{
    public const string Section = "Sweep:Limits";

    /// <summary>The longest a trial may train, in seconds (cap of the spec's "maxTrialSeconds").</summary>
    public int? MaxTrialSeconds { get; set; }
    /// <summary>The most trial-epochs one sweep may spend (cap of the spec's "trialEpochBudget").</summary>
    public long? TrialEpochBudget { get; set; }
    /// <summary>The largest share of the cluster's trial places one sweep takes at once, 0–1 (cap of "maxSlotShare").</summary>
    public double? MaxSlotShare { get; set; }
    /// <summary>The most trials one sweep may expand to (at most 100,000).</summary>
    public int? MaxTrials { get; set; }
    /// <summary>
    /// The most parameters a trial's model may have (default 200 million: VGG-16 has 15 million; an mlp of two hidden
    /// layers of 65,536 units, 4.4 billion, would take 70 GB to train). Checked on submit, before anything is allocated.
    /// </summary>
    public long MaxModelParameters { get; set; } = 200_000_000;
    /// <summary>
    /// The most memory one trial's training may take by <see cref="ModelSize"/>'s estimate, in bytes (default 8 GiB:
    /// two slots of this project's 24 GiB machines, or a share of an 80 GB GPU).
    /// </summary>
    public long MaxTrialMemory { get; set; } = 8L << 30;

    public string? Validate()
    {
        if (MaxTrialSeconds is < 1) return $"Sweep:Limits:MaxTrialSeconds must be at least 1, got {MaxTrialSeconds}";
        if (TrialEpochBudget is < 1) return $"Sweep:Limits:TrialEpochBudget must be at least 1, got {TrialEpochBudget}";
        if (MaxSlotShare is { } s && !(s > 0 && s <= 1)) return $"Sweep:Limits:MaxSlotShare must be in (0, 1], got {s}";
        if (MaxTrials is < 1 or > SpecParser.MaxTrials)
            return $"Sweep:Limits:MaxTrials must be in [1, {SpecParser.MaxTrials}], got {MaxTrials}";
        if (MaxModelParameters < 1) return $"Sweep:Limits:MaxModelParameters must be at least 1, got {MaxModelParameters}";
        if (MaxTrialMemory < 1) return $"Sweep:Limits:MaxTrialMemory must be at least 1 byte, got {MaxTrialMemory}";
        return null;
    }

    /// <summary>
    /// The spec with the caps applied where it is silent; throws <see cref="SpecException"/> naming the first field that
    /// asks more than a cap.
    /// </summary>
    public SweepSpec Apply(SweepSpec spec, int trials)
    {
        if (MaxTrials is { } t && trials > t)
            throw new SpecException("search",
                $"expands to {trials} trials, more than this cluster's limit of {t} (Sweep:Limits:MaxTrials)");
        if (MaxTrialSeconds is { } s && spec.MaxTrialSeconds > s)
            throw new SpecException("maxTrialSeconds", $"{spec.MaxTrialSeconds} is more than this cluster's limit of {s}");
        if (TrialEpochBudget is { } e && spec.TrialEpochBudget > e)
            throw new SpecException("trialEpochBudget", $"{spec.TrialEpochBudget} is more than this cluster's limit of {e}");
        if (MaxSlotShare is { } share && spec.MaxSlotShare > share)
            throw new SpecException("maxSlotShare", $"{spec.MaxSlotShare} is more than this cluster's limit of {share}");
        return Fill(spec);
    }

    /// <summary>The spec with this cluster's limits where it is silent (what <see cref="Apply"/> returns once it passes).</summary>
    public SweepSpec Fill(SweepSpec spec) => Filled(spec, MaxTrialSeconds, TrialEpochBudget, MaxSlotShare);

    /// <summary>
    /// Whether <paramref name="submitted"/> is the spec a sweep accepted as <paramref name="accepted"/> again (a retried
    /// submit): equal but for the text it came from and, where it is silent, the limits the cluster filled in when it
    /// accepted it (whatever the limits are now: an operator may have changed them since).
    /// </summary>
    public static bool IsResubmission(SweepSpec accepted, SweepSpec submitted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(submitted);
        var same = Filled(submitted, accepted.MaxTrialSeconds, accepted.TrialEpochBudget, accepted.MaxSlotShare);
        return JsonSerializer.Serialize(same with { Source = null }, SweepJson.Options)
            == JsonSerializer.Serialize(accepted with { Source = null }, SweepJson.Options);
    }

    private static SweepSpec Filled(SweepSpec spec, int? maxTrialSeconds, long? trialEpochBudget, double? maxSlotShare) => spec with
    {
        MaxTrialSeconds = spec.MaxTrialSeconds ?? maxTrialSeconds,
        TrialEpochBudget = spec.TrialEpochBudget ?? trialEpochBudget,
        MaxSlotShare = spec.MaxSlotShare ?? maxSlotShare,
    };

    /// <summary>
    /// Throws <see cref="SpecException"/> naming "model" when a model the sweep may train (a planned trial's, or any value
    /// of its model dimension: nsga2 proposes later generations from those) has more parameters than
    /// <see cref="MaxModelParameters"/> or would take more than <see cref="MaxTrialMemory"/> to train on samples of
    /// <paramref name="input"/> ([C, H, W]) at the sweep's largest batch.
    /// </summary>
    public void CheckModels(SweepSpec spec, IReadOnlyList<TrialPlan> plans, IReadOnlyList<int> input, int classes)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plans);
        int batch = plans.Count == 0 ? 0 : plans.Max(p => p.Params.BatchSize);
        var models = plans.Select(p => p.Params.Model)
            .Concat(spec.Search.Space.Where(d => d.Parameter == "model").SelectMany(d => d.Texts))
            .Distinct(StringComparer.Ordinal);
        foreach (string model in models)
        {
            var size = ModelSize.Of(ModelSpec.Parse(model), input, classes, batch);
            if (size.Parameters > MaxModelParameters)
                throw new SpecException("model", Invariant($"{model} has {size.Parameters:N0} parameters, more than this cluster's ")
                    + Invariant($"limit of {MaxModelParameters:N0} (Sweep:Limits:MaxModelParameters)"));
            if (size.TrainingBytes > MaxTrialMemory)
                throw new SpecException("model", $"{model} would take about {Gib(size.TrainingBytes)} to train (batch {batch}), "
                    + $"more than this cluster's limit of {Gib(MaxTrialMemory)} (Sweep:Limits:MaxTrialMemory)");
        }
    }

    private static string Gib(long bytes) => Invariant($"{bytes / (double)(1L << 30):0.##} GiB");
}
