using Sweep.Core.Models;
using Sweep.Core.Pareto;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>
/// The nsga2 sampler alone, fed the outcomes of a known function of the parameters (the sampler is what is tested: the
/// cluster tests train real trials). Trials finish in an order other than the plan's, as on a cluster.
/// </summary>
public sealed class Nsga2PlannerTests
{
    private const string Space =
        """{ "regularizer": ["l1", "l2"], "lambda": { "logUniform": [1e-6, 1e-1] }, "pruneRate": { "uniform": [0.1, 0.99] } }""";

    private static SweepSpec Spec(int trials, int population, long seed, string seeds = "[0]", string space = Space) =>
        SpecParser.Parse($$"""
        { "name": "n", "seeds": {{seeds}},
          "search": { "strategy": "nsga2", "trials": {{trials}}, "population": {{population}}, "seed": {{seed}},
            "space": {{space}} } }
        """, null);

    // A known trade-off: accuracy falls with the prune rate, and with λ away from a narrow band around 3e-4 (a quarter of a
    // decade wide in a space of five), l1 a little better than l2.
    private static TrialResult Outcome(TrialPlan plan)
    {
        var p = plan.Params;
        double miss = Math.Abs(Math.Log10(Math.Max(p.Lambda, 1e-12)) - Math.Log10(3e-4));
        double accuracy = 0.98 - 0.4 * Math.Pow(p.PruneRate, 6) - 0.3 * Math.Min(1, 16 * miss * miss) - (p.Regularizer == "l2" ? 0.02 : 0)
            + 0.001 * p.Seed;
        return new TrialResult
        {
            TrialId = plan.TrialId, Status = TrialStatus.Completed, Params = p,
            Accuracy = accuracy, WeightSparsity = p.PruneRate, NodeSparsity = 0,
        };
    }

    /// <summary>
    /// Runs the sampler to the end with <paramref name="slots"/> trials in flight, the most recently started finishing
    /// first; <paramref name="stopAfter"/> ends it early. Returns the planner and every result by trial id.
    /// </summary>
    private static (Nsga2Planner Planner, Dictionary<string, TrialResult> Results) Simulate(
        SweepSpec spec, int slots, int stopAfter = int.MaxValue, Func<TrialPlan, TrialResult>? outcome = null)
    {
        var planner = new Nsga2Planner(spec);
        var results = new Dictionary<string, TrialResult>(StringComparer.Ordinal);
        var done = new HashSet<int>();
        var running = new List<int>();
        int next = 0;
        for (int steps = 0; steps < 100_000 && done.Count < stopAfter; steps++)
        {
            while (running.Count < slots && next < planner.Plans.Count) running.Add(next++);
            if (running.Count == 0) break;
            int i = running[^1];
            running.RemoveAt(running.Count - 1);
            var r = (outcome ?? Outcome)(planner.Plans[i]);
            results[r.TrialId] = r;
            done.Add(i);
            planner.Observe(i, r);
            planner.Propose(done.Contains);
        }
        return (planner, results);
    }

    private static string[] Ids(Nsga2Planner planner) => [.. planner.Plans.Select(p => p.TrialId)];

    [Fact]
    public void A_seed_gives_the_same_proposals_whatever_order_trials_finish_in_and_another_seed_others()
    {
        var (a, _) = Simulate(Spec(80, 10, 1), slots: 3);
        var (b, _) = Simulate(Spec(80, 10, 1), slots: 17);
        var (c, _) = Simulate(Spec(80, 10, 2), slots: 3);
        Assert.Equal(80, a.Plans.Count);
        Assert.Equal(Ids(a), Ids(b));
        Assert.NotEqual(Ids(a).Skip(20), Ids(c).Skip(20));
    }

    [Fact]
    public void It_proposes_trials_times_seeds_distinct_configurations_a_population_per_generation()
    {
        var spec = Spec(60, 10, 5, seeds: "[0, 1]");
        var (planner, _) = Simulate(spec, slots: 8);
        Assert.Equal(120, planner.Target);
        Assert.Equal(120, planner.Plans.Count);
        Assert.Equal(120, planner.Plans.Select(p => p.TrialId).Distinct().Count());
        var configurations = planner.Plans.Select(p => TrialIds.Canonical(p.Params with { Seed = 0 })).ToArray();
        Assert.Equal(60, configurations.Distinct().Count());
        // A configuration's seeds are adjacent, and generation g holds plan indexes [20g, 20g + 20).
        for (int i = 0; i < 120; i += 2) Assert.Equal(configurations[i], configurations[i + 1]);
        Assert.Equal(Enumerable.Range(0, 120).Select(i => i / 20), Enumerable.Range(0, 120).Select(planner.GenerationOf));
        Assert.Equal("every trial proposed", planner.Stopped);
        // Every proposal is in the space.
        Assert.All(planner.Plans, p =>
        {
            Assert.InRange(p.Params.Lambda, 1e-6, 1e-1);
            Assert.InRange(p.Params.PruneRate, 0.1, 0.99);
            Assert.Contains(p.Params.Regularizer, new[] { "l1", "l2" });
        });
    }

    [Fact]
    public void The_first_two_generations_are_random_searchs_first_draws()
    {
        var spec = Spec(50, 10, 9);
        var random = SearchSpace.Expand(spec with { Search = spec.Search with { Strategy = SearchStrategy.Random } });
        Assert.Equal(random.Take(20).Select(p => p.TrialId), new Nsga2Planner(spec).Plans.Select(p => p.TrialId));
    }

    [Fact]
    public void Replaying_the_stored_results_gives_the_plan_the_running_sweep_had()
    {
        var spec = Spec(100, 10, 4);
        foreach (int stop in new[] { 5, 20, 33, 61, 100 })
        {
            var (live, results) = Simulate(spec, slots: 6, stopAfter: stop);
            var replayed = Nsga2Planner.Replay(spec, results);
            Assert.True(Ids(live).SequenceEqual(Ids(replayed)),
                $"stop {stop}: live {live.Plans.Count} plans, replayed {replayed.Plans.Count}, first difference at "
                + Enumerable.Range(0, Math.Min(live.Plans.Count, replayed.Plans.Count))
                    .FirstOrDefault(i => Ids(live)[i] != Ids(replayed)[i], -1));
        }
    }

    [Fact]
    public void The_next_generation_waits_until_every_parent_is_done()
    {
        var spec = Spec(40, 5, 1);
        var planner = new Nsga2Planner(spec);
        Assert.Equal(10, planner.Plans.Count);   // generations 0 and 1
        for (int i = 0; i < 4; i++) planner.Observe(i, Outcome(planner.Plans[i]));
        Assert.Empty(planner.Propose(i => i < 4));   // generation 0 is 5 trials
        planner.Observe(4, Outcome(planner.Plans[4]));
        Assert.Equal(5, planner.Propose(i => i < 5).Count);   // generation 2, from generation 0
        Assert.Empty(planner.Propose(i => i < 9));
    }

    [Fact]
    public void A_cancelled_parent_ends_the_proposals_and_the_target_shrinks_to_what_was_proposed()
    {
        var spec = Spec(40, 5, 1);
        var planner = new Nsga2Planner(spec);
        for (int i = 0; i < 5; i++)
            planner.Observe(i, i == 2 ? new TrialResult { TrialId = planner.Plans[i].TrialId, Status = TrialStatus.Cancelled }
                : Outcome(planner.Plans[i]));
        Assert.Empty(planner.Propose(i => i < 5));
        Assert.Equal("cancelled", planner.Stopped);
        Assert.Equal(10, planner.Target);
    }

    [Fact]
    public void A_small_space_is_proposed_without_repeats_until_it_is_used_up()
    {
        var spec = Spec(6, 2, 3, space: """{ "regularizer": ["l1", "l2"], "pruneRate": [0.5, 0.7, 0.9] }""");
        var (planner, _) = Simulate(spec, slots: 2);
        Assert.Equal(6, planner.Plans.Count);
        Assert.Equal(6, planner.Plans.Select(p => (p.Params.Regularizer, p.Params.PruneRate)).Distinct().Count());
    }

    [Fact]
    public void Failed_trials_are_no_parents_but_do_not_stop_the_search()
    {
        var spec = Spec(300, 20, 2);
        var (planner, results) = Simulate(spec, slots: 4, outcome: plan =>
            plan.Params.Regularizer == "l2" ? new TrialResult { TrialId = plan.TrialId, Status = TrialStatus.Failed, Params = plan.Params }
                : Outcome(plan));
        Assert.Equal(300, planner.Plans.Count);
        Assert.Equal(300, results.Count);
        // Bred from l1 parents only, later generations are about 2/3 l1 (a mutation flips the choice with probability 1/3),
        // where the random first two are about half.
        int l1 = planner.Plans.Skip(40).Count(p => p.Params.Regularizer == "l1");
        Assert.InRange(l1, 143, 210);   // 55 % … 81 % of 260
    }

    [Fact]
    public void Breeding_finds_a_better_front_than_random_search_with_the_same_trials()
    {
        double Hypervolume(IEnumerable<TrialResult> results) =>
            Sweep.Core.Pareto.Hypervolume.Of(results.Select(r => (r.Accuracy!.Value, r.WeightSparsity!.Value)), 0, 0);
        // Over three seeds of the search, the same 200 trials each.
        double bred = 0, random = 0;
        foreach (long seed in new long[] { 11, 12, 13 })
        {
            var spec = Spec(200, 20, seed);
            bred += Hypervolume(Simulate(spec, slots: 8).Results.Values);
            random += Hypervolume(SearchSpace.Expand(spec with { Search = spec.Search with { Strategy = SearchStrategy.Random } })
                .Select(Outcome));
        }
        Assert.True(bred > random + 0.01, $"nsga2 {bred / 3:F4} vs random {random / 3:F4} (mean hypervolume)");
    }

    [Theory]
    [InlineData(100, 20)]
    [InlineData(1000, 50)]
    [InlineData(5, 2)]
    public void Population_defaults_to_a_fifth_of_the_trials_between_2_and_50(int trials, int population)
    {
        var spec = SpecParser.Parse($$"""
            { "name": "n", "search": { "strategy": "nsga2", "trials": {{trials}}, "space": { "pruneRate": { "uniform": [0.1, 0.9] } } } }
            """, null);
        Assert.Equal(population, spec.Search.Population);
    }

    [Theory]
    [InlineData("random", "\"trials\": 10, \"population\": 5", "search.population: only used by strategy nsga2")]
    [InlineData("nsga2", "\"trials\": 10, \"population\": 11", "search.population: 11 exceeds search.trials (10)")]
    [InlineData("nsga2", "\"trials\": 10, \"population\": 0", "search.population: must be")]
    [InlineData("nsga2", "\"population\": 4", "search.trials: required for strategy nsga2")]
    public void Bad_nsga2_settings_are_refused_naming_the_field(string strategy, string settings, string message)
    {
        var e = Assert.Throws<SpecException>(() => SpecParser.Parse($$"""
            { "name": "n", "search": { "strategy": "{{strategy}}", {{settings}}, "space": { "pruneRate": { "uniform": [0.1, 0.9] } } } }
            """, null));
        Assert.StartsWith(message, e.Message);
    }
}
