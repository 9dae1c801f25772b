using Sweep.Core;
using System.Globalization;
using Sweep.Core.Models;

namespace Sweep.Core.Search;

/// <summary>
/// Turns a sweep spec into its list of trials. Order: configurations in search order (grid: cartesian product with
/// the first dimension varying slowest and the last fastest; random: the order they were drawn), and within each
/// configuration one trial per seed in the order of <see cref="SweepSpec.Seeds"/> (the seed varies fastest, so a
/// configuration's replicates are adjacent).
/// </summary>
public static class SearchSpace
{
    /// <summary>
    /// Every trial of the sweep: <see cref="SweepSpec.Base"/> with the dimension values applied and the seed set,
    /// each with its <see cref="TrialIds.For"/> id. Deterministic: the same spec gives the same list in every run.
    /// Random search draws <see cref="SearchSpec.Trials"/> distinct configurations with SplitMix64 seeded by
    /// <see cref="SearchSpec.Seed"/>: a choice picks uniformly (index = next mod count), uniform is low + (high − low)·u,
    /// logUniform is exp(ln low + (ln high − ln low)·u), int is low + next mod (high − low + 1), with
    /// u = (next &gt;&gt; 11)·2⁻⁵³ and the dimensions drawn in spec order; a configuration drawn before is redrawn.
    /// </summary>
    /// <exception cref="SpecException">
    /// The space cannot give what the spec asks for (too many trials, too few distinct configurations).
    /// </exception>
    public static IReadOnlyList<TrialPlan> Expand(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        CheckSize(spec);
        var configurations = spec.Search.Strategy switch
        {
            SearchStrategy.Grid => Grid(spec),
            SearchStrategy.Random => Random(spec),
            // nsga2 proposes the rest as results come (Nsga2Planner); its first two generations are known now.
            SearchStrategy.Nsga2 => null,
            var other => throw new SpecException("search.strategy", $"unknown strategy '{other}'"),
        };
        if (configurations is null) return new Nsga2Planner(spec).Plans;

        var plans = new List<TrialPlan>(configurations.Count * spec.Seeds.Count);
        var ids = new Dictionary<string, TrialParameters>(plans.Capacity);
        foreach (var configuration in configurations)
        {
            foreach (long seed in spec.Seeds)
            {
                var p = (configuration with { Seed = seed }).Normalized();
                string id = TrialIds.For(p);
                if (ids.TryGetValue(id, out var same) && same == p) continue;
                // 48 bits of hash: a collision is ~1e-5 likely at the largest sweep; refuse rather than merge two trials.
                if (!ids.TryAdd(id, p))
                    throw new InvalidOperationException(
                        $"trial id {id} is shared by {TrialIds.Canonical(ids[id])} and {TrialIds.Canonical(p)}");
                plans.Add(new TrialPlan(id, p));
            }
        }
        return plans;
    }

    /// <summary>
    /// How many distinct configurations the space holds: for grid the product of the list lengths; for random the
    /// product of the discrete dimensions' sizes (lists, int ranges), or infinity when a dimension is continuous.
    /// </summary>
    public static double DistinctConfigurations(SearchSpec search)
    {
        double count = 1;
        foreach (var d in search.Space)
        {
            count *= d.Kind switch
            {
                DimensionKind.Choice => Count(d),
                DimensionKind.Int => Math.Floor(d.High) - Math.Ceiling(d.Low) + 1,
                _ => double.PositiveInfinity,
            };
        }
        return count;
    }

    /// <summary>
    /// Rejects a spec whose trials (configurations × seeds) exceed <see cref="SpecParser.MaxTrials"/>, or whose random search asks
    /// for more configurations than exist.
    /// </summary>
    public static void CheckSize(SweepSpec spec)
    {
        var search = spec.Search;
        int seeds = spec.Seeds.Count;
        if (seeds == 0) throw new SpecException("seeds", "must list at least one seed");
        if (search.Strategy == SearchStrategy.Grid && search.Space.FirstOrDefault(d => d.Kind != DimensionKind.Choice) is { } range)
            throw new SpecException($"search.space.{range.Parameter}", "grid search needs a list of values, not a range");
        double distinct = DistinctConfigurations(search);
        double configurations = distinct;
        if (search.Strategy is SearchStrategy.Random or SearchStrategy.Nsga2)
        {
            if (search.Trials < 1 || search.Trials > SpecParser.MaxTrials)
                throw new SpecException("search.trials", $"must be an integer in [1, {SpecParser.MaxTrials}], got {search.Trials}");
            if (search.Trials > distinct)
                throw new SpecException("search.trials",
                    $"{search.Trials} exceeds the {Format(distinct)} distinct configurations of the space");
            configurations = search.Trials;
            if (search.Strategy == SearchStrategy.Nsga2 && (search.Population < 1 || search.Population > search.Trials))
                throw new SpecException("search.population",
                    $"must be an integer in [1, {search.Trials}] (search.trials), got {search.Population}");
        }
        double trials = configurations * seeds;
        if (trials > SpecParser.MaxTrials)
            throw new SpecException("search",
                $"{Format(configurations)} configurations × {seeds} seed{(seeds == 1 ? "" : "s")} = {Format(trials)} trials "
                + $"exceed the limit of {SpecParser.MaxTrials}");
    }

    private static List<TrialParameters> Grid(SweepSpec spec)
    {
        var configurations = new List<TrialParameters> { spec.Base };
        // Extending each prefix by the next dimension keeps the first dimension slowest.
        foreach (var d in spec.Search.Space)
        {
            int count = Count(d);
            var next = new List<TrialParameters>(configurations.Count * count);
            foreach (var prefix in configurations)
                for (int i = 0; i < count; i++) next.Add(Apply(prefix, d, i));
            configurations = next;
        }
        return configurations;
    }

    private static List<TrialParameters> Random(SweepSpec spec) => RandomConfigurations(spec, spec.Search.Trials, p => p);

    /// <summary>
    /// The first <paramref name="count"/> distinct configurations (after <paramref name="normalize"/>) of the spec's
    /// seeded draws, in draw order: random search's configurations, and nsga2's first two generations.
    /// </summary>
    internal static List<TrialParameters> RandomConfigurations(SweepSpec spec, int count, Func<TrialParameters, TrialParameters> normalize)
    {
        var search = spec.Search;
        var rng = new SplitMix64(unchecked((ulong)search.Seed));
        var configurations = new List<TrialParameters>(count);
        var seen = new HashSet<TrialParameters>();
        // Rejection sampling; the cap only matters for tiny continuous ranges (a few representable doubles).
        long maxDraws = 100L * count + 10_000;
        for (long draws = 0; configurations.Count < count; draws++)
        {
            if (draws == maxDraws)
                throw new SpecException("search.trials",
                    $"could not draw {count} distinct configurations in {maxDraws} draws; the space is too small");
            var p = spec.Base;
            foreach (var d in search.Space) p = Draw(p, d, ref rng);
            p = normalize(p);
            if (seen.Add(p)) configurations.Add(p);
        }
        return configurations;
    }

    /// <summary>
    /// How many trials the sweep runs: its expansion's for grid and random, trials × seeds for nsga2 (fewer only if the
    /// space runs out of configurations it has not proposed).
    /// </summary>
    public static int PlannedTrials(SweepSpec spec, IReadOnlyList<TrialPlan> plans)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plans);
        return spec.Search.Strategy == SearchStrategy.Nsga2 ? spec.Search.Trials * spec.Seeds.Count : plans.Count;
    }

    /// <summary>
    /// The most epochs any trial of the sweep trains: of its plans, and for nsga2 (which proposes later trials from the
    /// space) of the space's epochs dimension too. What a trialEpochBudget must hold for one trial.
    /// </summary>
    public static int MostEpochs(SweepSpec spec, IReadOnlyList<TrialPlan> plans)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plans);
        int most = plans.Count == 0 ? spec.Base.Epochs : plans.Max(p => p.Params.Epochs);
        if (spec.Search.Strategy != SearchStrategy.Nsga2) return most;
        foreach (var d in spec.Search.Space.Where(d => d.Parameter == "epochs"))
            most = Math.Max(most, (int)(d.Kind == DimensionKind.Choice ? d.Numbers.Max() : Math.Floor(d.High)));
        return most;
    }

    internal static TrialParameters Draw(TrialParameters p, Dimension d, ref SplitMix64 rng)
    {
        switch (d.Kind)
        {
            case DimensionKind.Choice:
                return Apply(p, d, (int)(rng.Next() % (ulong)Count(d)));
            case DimensionKind.Uniform:
                // Rounding can land a hair outside [low, high]; clamp so the validated bounds hold.
                return Apply(p, d.Parameter, Math.Clamp(d.Low + (d.High - d.Low) * rng.NextUnit(), d.Low, d.High));
            case DimensionKind.LogUniform:
                double log = Math.Log(d.Low) + (Math.Log(d.High) - Math.Log(d.Low)) * rng.NextUnit();
                return Apply(p, d.Parameter, Math.Clamp(Math.Exp(log), d.Low, d.High));
            case DimensionKind.Int:
                double low = Math.Ceiling(d.Low), span = Math.Floor(d.High) - low + 1;
                if (!(span >= 1))
                    throw new SpecException($"search.space.{d.Parameter}.int", $"empty range [{Format(d.Low)}, {Format(d.High)}]");
                return Apply(p, d.Parameter, low + rng.Next() % (ulong)span);
            default:
                throw new SpecException($"search.space.{d.Parameter}", $"unknown dimension kind {d.Kind}");
        }
    }

    private static int Count(Dimension d)
    {
        int count = Parameter(d.Parameter).Kind == ParameterKind.Text ? d.Texts.Count : d.Numbers.Count;
        if (count == 0) throw new SpecException($"search.space.{d.Parameter}", $"empty list; give at least one value");
        return count;
    }

    private static TrialParameters Apply(TrialParameters p, Dimension d, int index)
    {
        var parameter = Parameter(d.Parameter);
        return parameter.Kind == ParameterKind.Text ? parameter.With(p, d.Texts[index]) : parameter.With(p, d.Numbers[index]);
    }

    private static TrialParameters Apply(TrialParameters p, string parameter, double value) => Parameter(parameter).With(p, value);

    private static TrialParameter Parameter(string name) =>
        TrialParameterTable.Find(name) is { Searchable: true } parameter ? parameter
            : throw new SpecException($"search.space.{name}",
                $"unknown parameter (searchable: {string.Join(", ", TrialParameterTable.Searchable)})");

    private static string Format(double count) =>
        count < 1e15 ? count.ToString("0", CultureInfo.InvariantCulture) : count.ToString("R", CultureInfo.InvariantCulture);
}
