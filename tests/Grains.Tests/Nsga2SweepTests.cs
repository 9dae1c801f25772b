using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>An nsga2 sweep on the real cluster: its proposals survive the coordinator's deactivation unchanged.</summary>
[Collection(ClusterCollection.Name)]
public sealed class Nsga2SweepTests(ClusterFixture fixture)
{
    private static SweepSpec Spec(string name) => SpecParser.Parse($$"""
        {
          "name": "{{name}}", "model": "mlp",
          "training": { "epochs": 4, "trainLimit": 1000 },
          "search": { "strategy": "nsga2", "trials": 10, "population": 2, "seed": 3,
            "space": { "regularizer": ["l1", "l2"], "lambda": { "logUniform": [1e-5, 1e-2] },
                       "pruneRate": { "uniform": [0.3, 0.95] } } }
        }
        """, null);

    private async Task<IReadOnlyList<TrialResult>> RunAsync(string id, bool deactivate)
    {
        var coordinator = fixture.Client.GetGrain<ISweepCoordinatorGrain>(id);
        var submitted = await coordinator.SubmitAsync(Spec("nsga2"), []);
        Assert.Equal(10, submitted.Total);   // every trial it will propose counts from the start
        if (deactivate)
        {
            // Past generation 0 (its 2 trials done let generation 2 be proposed), well before the end.
            var before = await SweepClusterTests.WaitAsync(fixture.Client, id, s => s.Done >= 3, TimeSpan.FromMinutes(3));
            Assert.False(before.IsFinished);
            await fixture.Cluster.DeactivateAsync(coordinator);
        }
        var done = await SweepClusterTests.WaitAsync(fixture.Client, id, s => s.IsFinished, TimeSpan.FromMinutes(3));
        Assert.Equal(10, done.Completed);
        return await coordinator.GetResultsAsync(0, 100);
    }

    [Fact]
    public async Task A_coordinator_deactivated_mid_sweep_proposes_the_same_trials_as_an_uninterrupted_sweep()
    {
        var whole = await RunAsync($"nsga2-whole-{Guid.NewGuid():N}", deactivate: false);
        var resumed = await RunAsync($"nsga2-resumed-{Guid.NewGuid():N}", deactivate: true);

        static string[] Proposals(IReadOnlyList<TrialResult> results) =>
            [.. results.OrderBy(r => r.Generation).ThenBy(r => r.TrialId, StringComparer.Ordinal)
                .Select(r => $"{r.Generation} {r.TrialId} {TrialIds.Canonical(r.Params)}")];
        Assert.Equal(10, whole.Select(r => r.TrialId).Distinct().Count());
        Assert.Equal(Proposals(whole), Proposals(resumed));
        // Generations of `population` configurations: 0 and 1 drawn at random, 2 … 4 bred from the finished ones.
        Assert.Equal([2, 2, 2, 2, 2], whole.GroupBy(r => r.Generation!.Value).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.All(resumed, r => Assert.Equal(1, r.Attempts));
    }

    [Fact]
    public async Task A_budget_stop_ends_the_proposals_and_the_sweep_finishes_with_every_trial_accounted_for()
    {
        // 5 trial-epochs: generations 0 and 1 (4 trials) and one more start; what the planner proposes after the stop is
        // stored cancelled at once, in batches nobody waits for, and the sweep must still finish.
        var spec = SpecParser.Parse("""
            { "name": "nsga2-budget", "model": "mlp", "training": { "epochs": 1, "trainLimit": 300 }, "trialEpochBudget": 5,
              "search": { "strategy": "nsga2", "trials": 12, "population": 2, "seed": 3,
                "space": { "lambda": { "logUniform": [1e-5, 1e-2] }, "pruneRate": { "uniform": [0.3, 0.95] } } } }
            """, null);
        string id = $"nsga2-budget-{Guid.NewGuid():N}";
        var coordinator = fixture.Client.GetGrain<ISweepCoordinatorGrain>(id);
        await coordinator.SubmitAsync(spec, []);
        // A cancelled sweep says so at once; it has finished once every trial is accounted for (FinishedAt).
        var done = await SweepClusterTests.WaitAsync(fixture.Client, id, s => s.FinishedAt is not null, TimeSpan.FromMinutes(2));
        Assert.Equal(SweepState.Cancelled, done.State);
        Assert.Equal(done.Total, done.Done);
        Assert.Equal(5, done.Completed);
        var results = await coordinator.GetResultsAsync(0, 100);
        Assert.Equal(done.Total, results.Count);
        Assert.All(results.Where(r => r.Status == TrialStatus.Cancelled), r => Assert.StartsWith("budget spent", r.Error));
    }
}
