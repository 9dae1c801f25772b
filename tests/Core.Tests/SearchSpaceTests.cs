using System.Text.RegularExpressions;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

public sealed class SearchSpaceTests
{
    private static readonly SweepSpec MnistGrid = SpecParser.Load(Examples.PathOf("mnist-grid.json"));
    private static readonly SweepSpec MnistRandom = SpecParser.Load(Examples.PathOf("mnist-random.json"));

    // ---- grid ----

    [Fact]
    public void Without_a_regularizer_lambda_is_recorded_as_zero_and_a_grid_runs_that_trial_once()
    {
        var spec = SpecParser.Parse("""
            { "name": "none-grid", "search": { "strategy": "grid",
              "space": { "regularizer": ["none", "l1"], "lambda": [1e-4, 1e-3] } }, "seeds": [0, 1] }
            """, null);
        var plans = SearchSpace.Expand(spec);
        Assert.Equal(6, plans.Count);   // l1 × 2 λ × 2 seeds, and none once per seed
        Assert.Equal(6, plans.Select(p => p.TrialId).Distinct().Count());
        Assert.All(plans.Where(p => p.Params.Regularizer == "none"), p => Assert.Equal(0, p.Params.Lambda));
        Assert.Equal(2, plans.Count(p => p.Params.Regularizer == "none"));
    }

    [Fact]
    public void Mnist_grid_expands_to_32_trials_with_distinct_ids_covering_the_full_product()
    {
        var plans = SearchSpace.Expand(MnistGrid);

        Assert.Equal(32, plans.Count);
        Assert.Equal(32, plans.Select(p => p.TrialId).Distinct().Count());
        var expected =
            from r in new[] { "l1", "l2" }
            from l in new[] { 1e-5, 1e-4, 1e-3, 1e-2 }
            from rate in new[] { 0.5, 0.7, 0.8, 0.9 }
            select (r, l, rate);
        Assert.Equal(expected.ToHashSet(), plans.Select(p => (p.Params.Regularizer, p.Params.Lambda, p.Params.PruneRate)).ToHashSet());
    }

    [Fact]
    public void Grid_varies_the_first_dimension_slowest()
    {
        var plans = SearchSpace.Expand(MnistGrid).Select(p => (p.Params.Regularizer, p.Params.Lambda, p.Params.PruneRate)).ToList();

        Assert.Equal(("l1", 1e-5, 0.5), plans[0]);
        Assert.Equal(("l1", 1e-5, 0.7), plans[1]);
        Assert.Equal(("l1", 1e-4, 0.5), plans[4]);
        Assert.Equal(("l2", 1e-5, 0.5), plans[16]);
        Assert.Equal(("l2", 1e-2, 0.9), plans[31]);
    }

    [Fact]
    public void Every_plan_keeps_the_fixed_settings_and_carries_its_own_id()
    {
        foreach (var plan in SearchSpace.Expand(MnistGrid))
        {
            Assert.Equal(MnistGrid.Base with { Regularizer = plan.Params.Regularizer, Lambda = plan.Params.Lambda,
                PruneRate = plan.Params.PruneRate }, plan.Params);
            Assert.Equal(TrialIds.For(plan.Params), plan.TrialId);
        }
    }

    [Fact]
    public void Seeds_multiply_the_configurations_and_vary_fastest()
    {
        var spec = MnistGrid with { Seeds = [0, 7, 3] };

        var plans = SearchSpace.Expand(spec);

        Assert.Equal(96, plans.Count);
        Assert.Equal(96, plans.Select(p => p.TrialId).Distinct().Count());
        Assert.Equal([0L, 7L, 3L], plans.Take(3).Select(p => p.Params.Seed));
        Assert.All(plans.Take(3), p => Assert.Equal(plans[0].Params with { Seed = p.Params.Seed }, p.Params));
        Assert.All(plans.GroupBy(p => p.Params with { Seed = 0 }), g => Assert.Equal(3, g.Count()));
    }

    [Fact]
    public void Expansion_is_the_same_every_time()
    {
        Assert.Equal(SearchSpace.Expand(MnistGrid), SearchSpace.Expand(SpecParser.Load(Examples.PathOf("mnist-grid.json"))));
    }

    [Fact]
    public void Grid_rejects_a_range_dimension_in_a_hand_built_spec()
    {
        var spec = MnistGrid with
        {
            Search = new SearchSpec { Strategy = SearchStrategy.Grid, Space = [Range("lambda", DimensionKind.Uniform, 1e-5, 1e-3)] },
        };
        Assert.Equal("search.space.lambda", Assert.Throws<SpecException>(() => SearchSpace.Expand(spec)).Field);
    }

    [Fact]
    public void Expand_enforces_the_trial_limit_on_a_hand_built_spec()
    {
        var spec = MnistGrid with { Seeds = Enumerable.Range(0, 5000).Select(i => (long)i).ToArray() };
        Assert.Equal("search", Assert.Throws<SpecException>(() => SearchSpace.Expand(spec)).Field);
    }

    // ---- random ----

    [Fact]
    public void Mnist_random_draws_24_distinct_trials_within_the_bounds()
    {
        var plans = SearchSpace.Expand(MnistRandom);

        Assert.Equal(24, plans.Count);
        Assert.Equal(24, plans.Select(p => p.TrialId).Distinct().Count());
        Assert.All(plans, p =>
        {
            Assert.Contains(p.Params.Regularizer, new[] { "l1", "l2", "l1l2" });
            Assert.InRange(p.Params.Lambda, 1e-6, 1e-2);
            Assert.InRange(p.Params.PruneRate, 0.5, 0.97);
            Assert.Equal(MnistRandom.Base with { Regularizer = p.Params.Regularizer, Lambda = p.Params.Lambda,
                PruneRate = p.Params.PruneRate }, p.Params);
        });
    }

    [Fact]
    public void Random_search_is_reproducible_for_the_same_seed()
    {
        Assert.Equal(SearchSpace.Expand(MnistRandom), SearchSpace.Expand(SpecParser.Load(Examples.PathOf("mnist-random.json"))));
    }

    [Fact]
    public void Random_search_draws_differently_for_another_seed()
    {
        var other = MnistRandom with { Search = MnistRandom.Search with { Seed = 2 } };
        var a = SearchSpace.Expand(MnistRandom).Select(p => p.TrialId).ToHashSet();
        var b = SearchSpace.Expand(other).Select(p => p.TrialId).ToHashSet();
        Assert.Empty(a.Intersect(b));
    }

    [Fact]
    public void Random_search_with_seeds_repeats_each_drawn_configuration_per_seed()
    {
        var plans = SearchSpace.Expand(MnistRandom with { Seeds = [0, 1] });

        Assert.Equal(48, plans.Count);
        for (int i = 0; i < plans.Count; i += 2)
            Assert.Equal(plans[i].Params with { Seed = 1 }, plans[i + 1].Params);
    }

    [Fact]
    public void Log_uniform_draws_stay_within_bounds_and_spread_evenly_over_the_decades()
    {
        var plans = SearchSpace.Expand(RandomSpec(4000, 11, Range("lambda", DimensionKind.LogUniform, 1e-6, 1e-2)));

        var lambdas = plans.Select(p => p.Params.Lambda).ToArray();
        Assert.All(lambdas, l => Assert.InRange(l, 1e-6, 1e-2));
        // Each of the four decades holds about a quarter; a uniform draw would put ~99 % in the last one.
        for (int decade = 0; decade < 4; decade++)
        {
            double low = 1e-6 * Math.Pow(10, decade), high = low * 10;
            int count = lambdas.Count(l => l >= low && l < high);
            Assert.InRange(count, 800, 1200);
        }
    }

    [Fact]
    public void Uniform_draws_stay_within_bounds_and_cover_the_range()
    {
        var rates = SearchSpace.Expand(RandomSpec(2000, 5, Range("pruneRate", DimensionKind.Uniform, 0.5, 0.97)))
            .Select(p => p.Params.PruneRate).ToArray();

        Assert.All(rates, r => Assert.InRange(r, 0.5, 0.97));
        Assert.InRange(rates.Count(r => r < 0.735), 900, 1100);
        Assert.True(rates.Min() < 0.51 && rates.Max() > 0.96);
    }

    [Fact]
    public void Int_draws_are_integral_within_bounds_and_reach_both_ends()
    {
        var epochs = SearchSpace.Expand(RandomSpec(6, 3, Range("epochs", DimensionKind.Int, 2, 7)))
            .Select(p => p.Params.Epochs).ToArray();

        Assert.Equal([2, 3, 4, 5, 6, 7], epochs.Order());
    }

    [Fact]
    public void Int_ranges_on_real_parameters_draw_whole_numbers()
    {
        var rates = SearchSpace.Expand(RandomSpec(3, 1, Range("learningRate", DimensionKind.Int, 1, 3)))
            .Select(p => p.Params.LearningRate).ToArray();
        Assert.Equal([1d, 2d, 3d], rates.Order());
    }

    [Fact]
    public void Random_search_can_exhaust_a_discrete_space_without_duplicates()
    {
        var spec = RandomSpec(12, 4, Choice("regularizer", "l1", "l2", "l1l2"), Range("epochs", DimensionKind.Int, 1, 4));

        var plans = SearchSpace.Expand(spec);

        Assert.Equal(12, plans.Select(p => (p.Params.Regularizer, p.Params.Epochs)).Distinct().Count());
    }

    [Fact]
    public void Random_search_asking_for_more_than_the_distinct_configurations_fails()
    {
        var spec = RandomSpec(13, 4, Choice("regularizer", "l1", "l2", "l1l2"), Range("epochs", DimensionKind.Int, 1, 4));

        var e = Assert.Throws<SpecException>(() => SearchSpace.Expand(spec));

        Assert.Equal("search.trials", e.Field);
        Assert.Equal("search.trials: 13 exceeds the 12 distinct configurations of the space", e.Message);
    }

    [Fact]
    public void Random_choices_pick_every_value()
    {
        var spec = RandomSpec(30, 9,
            Choice("pruneMethod", "stochastic", "magnitude", "none"), Range("pruneRate", DimensionKind.Uniform, 0, 0.9));
        Assert.Equal(3, SearchSpace.Expand(spec).Select(p => p.Params.PruneMethod).Distinct().Count());
    }

    [Fact]
    public void Distinct_configurations_count_lists_and_int_ranges_and_treat_continuous_ranges_as_unbounded()
    {
        Assert.Equal(32, SearchSpace.DistinctConfigurations(MnistGrid.Search));
        Assert.Equal(double.PositiveInfinity, SearchSpace.DistinctConfigurations(MnistRandom.Search));
    }

    // ---- ids ----

    [Fact]
    public void Trial_ids_are_t_and_twelve_lower_case_hex_digits()
    {
        Assert.All(SearchSpace.Expand(MnistGrid), p => Assert.Matches(new Regex("^t[0-9a-f]{12}$"), p.TrialId));
    }

    [Fact]
    public void Trial_ids_are_fixed_values_of_the_canonical_text()
    {
        // Pinned, and computed independently (Python hashlib over the same text): ids must never change between runs.
        Assert.Equal(
            "model=\"mlp\";regularizer=\"l2\";lambda=0.0001;pruneRate=0.9;pruneMethod=\"stochastic\";temperature=0.5;seed=0;epochs=5;"
            + "batchSize=64;learningRate=0.05;momentum=0.9;interval=50;rampFraction=0.7",
            TrialIds.Canonical(new TrialParameters()));
        Assert.Equal("te0cab564089a", TrialIds.For(new TrialParameters()));
        Assert.Equal("t25331c8474f7", SearchSpace.Expand(MnistGrid)[0].TrialId);
    }

    [Fact]
    public void Equal_parameters_give_equal_ids()
    {
        var a = new TrialParameters { Lambda = 0.1 + 0.2, Seed = 4 };
        var b = new TrialParameters { Lambda = 0.30000000000000004, Seed = 4 };
        Assert.Equal(TrialIds.For(a), TrialIds.For(b));
        Assert.Equal(TrialIds.For(new TrialParameters { PruneRate = 0.0 }), TrialIds.For(new TrialParameters { PruneRate = -0.0 }));
    }

    [Fact]
    public void Changing_any_parameter_changes_the_id()
    {
        var baseline = new TrialParameters();
        string id = TrialIds.For(baseline);
        var properties = typeof(TrialParameters).GetProperties().Where(p => p.CanWrite).ToArray();
        Assert.Equal(13, properties.Length);
        foreach (var property in properties)
        {
            var changed = baseline with { };
            object value = property.GetValue(baseline) switch
            {
                string s => s + "x",
                double d => d + 0.125,
                int i => i + 1,
                long l => l + 1,
                var other => throw new InvalidOperationException($"{property.Name}: unexpected type {other?.GetType()}"),
            };
            property.SetValue(changed, value);
            Assert.NotEqual(id, TrialIds.For(changed));
        }
    }

    [Fact]
    public void Nearby_doubles_give_different_ids()
    {
        Assert.NotEqual(TrialIds.For(new TrialParameters { Lambda = 1e-4 }),
            TrialIds.For(new TrialParameters { Lambda = Math.BitIncrement(1e-4) }));
    }

    // ---- helpers ----

    private static SweepSpec RandomSpec(int trials, long seed, params Dimension[] space) => new()
    {
        Name = "random-test",
        Search = new SearchSpec { Strategy = SearchStrategy.Random, Trials = trials, Seed = seed, Space = space },
    };

    private static Dimension Range(string parameter, DimensionKind kind, double low, double high) =>
        new() { Parameter = parameter, Kind = kind, Low = low, High = high };

    private static Dimension Choice(string parameter, params string[] values) =>
        new() { Parameter = parameter, Kind = DimensionKind.Choice, Texts = values };
}
