using Sweep.Core.Models;

namespace Sweep.Core.Search;

public static partial class SpecParser
{
    /// <summary>
    /// Checks a spec that arrived as an object rather than as text (a silo re-validates whatever a client submits: a
    /// client need not have used this parser): every rule of <see cref="Parse"/> that the object can break, on the
    /// spec's fields and on every planned trial's parameters. Throws <see cref="SpecException"/> naming the field.
    /// </summary>
    public static void Recheck(SweepSpec spec, IReadOnlyList<TrialPlan> plans)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plans);
        if (spec.Name is null || spec.Name is "." or ".." || !NamePattern().IsMatch(spec.Name))
            throw new SpecException("name", "must be 1–100 characters of letters, digits, '.', '_' and '-'");
        if (spec.Source is { } source && System.Text.Encoding.UTF8.GetByteCount(source) > MaxBytes)
            throw TooLarge(System.Text.Encoding.UTF8.GetByteCount(source));
        if (spec.Seeds is not { Count: > 0 }) throw new SpecException("seeds", "expected at least one seed");
        if (spec.Objectives is not { Count: 2 } objectives || objectives.Distinct().Count() != 2
            || objectives.Any(o => !KnownObjectives.Contains(o)))
            throw new SpecException("objectives", $"expected 2 different objectives of {string.Join(", ", KnownObjectives)}");
        if (spec.ReferencePoint is not { Count: 2 } point || point.Any(v => !double.IsFinite(v)))
            throw new SpecException("referencePoint", "expected exactly 2 finite numbers");
        if (spec.MaxAttempts is < 1 or > MaxAttemptsLimit)
            throw new SpecException("maxAttempts", $"must be an integer in [1, {MaxAttemptsLimit}], got {spec.MaxAttempts}");
        if (spec.TrainLimit is < 1) throw new SpecException("training.trainLimit", $"must be at least 1, got {spec.TrainLimit}");
        if (spec.MaxTrialSeconds is < 1) throw new SpecException("maxTrialSeconds", $"must be at least 1, got {spec.MaxTrialSeconds}");
        if (spec.TrialEpochBudget is < 1) throw new SpecException("trialEpochBudget", $"must be at least 1, got {spec.TrialEpochBudget}");
        if (spec.MaxSlotShare is { } share && !(share > 0 && share <= 1))
            throw new SpecException("maxSlotShare", $"must be in (0, 1], got {share}");
        if (plans.Count == 0) throw new SpecException("search", "the search space expands to no trial");
        if (plans.Count > MaxTrials)
            throw new SpecException("search", $"expands to {plans.Count} trials, more than the limit of {MaxTrials}");
        if (spec.TrialEpochBudget is { } budget && SearchSpace.MostEpochs(spec, plans) is var most && budget < most)
            throw new SpecException("trialEpochBudget", $"{budget} cannot pay for one trial of {most} epochs");
        if (spec.EarlyStopping is { } es)
        {
            if (!EarlyStoppingMethods.Contains(es.Method))
                throw new SpecException("earlyStopping.method", $"unknown method (known: {string.Join(", ", EarlyStoppingMethods)})");
            if (es.Rungs is not { Count: > 0 } rungs || rungs[0] < 1 || rungs.Zip(rungs.Skip(1)).Any(p => p.Second <= p.First))
                throw new SpecException("earlyStopping.rungs", "expected increasing epochs ≥ 1");
            if (!(es.Keep > 0 && es.Keep < 1)) throw new SpecException("earlyStopping.keep", $"must be in (0, 1), got {es.Keep}");
        }
        RecheckDataset(spec.Dataset, "dataset");
        foreach (var plan in plans) CheckWithEngine(plan.Params);
    }

    private static void RecheckDataset(DatasetRef? d, string field)
    {
        if (d is null) throw new SpecException(field, "missing");
        int sources = (d.Name is null ? 0 : 1) + (d.Cifar10 is null ? 0 : 1) + (d.Cifar100 is null ? 0 : 1)
            + (d.Images is null && d.Labels is null ? 0 : 1);
        if (sources != 1) throw new SpecException(field, "expected exactly one of a built-in name, images + labels, cifar10, cifar100");
        if ((d.Images is null) != (d.Labels is null)) throw new SpecException(field, "images and labels go together");
        foreach (var (path, key) in new[] { (d.Images, "images"), (d.Labels, "labels"), (d.Cifar10, "cifar10"), (d.Cifar100, "cifar100") })
            if (path is not null && (path.Length == 0 || path.Contains('\0') || !Path.IsPathFullyQualified(path)))
                throw new SpecException($"{field}.{key}", "must be an absolute path (the client resolves relative ones)");
        if (d.Test is { } test)
        {
            if (test.Test is not null) throw new SpecException($"{field}.test", "a test dataset has no test dataset of its own");
            RecheckDataset(test, $"{field}.test");
        }
    }
}
