using Orleans.TestingHost;
using Sweep.Grains.Models;
using Sweep.Grains.Search;
using Sweep.Silo;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>Trial placement by free training slots, each case on its own in-process cluster of two silos.</summary>
[Collection(ClusterCollection.Name)]   // trains: must not run beside the metrics test, whose counters are process-wide
public sealed class PlacementTests
{
    /// <summary>A cluster whose first silo advertises <paramref name="first"/> slots and the second <paramref name="second"/>.</summary>
    private static async Task<InProcessTestCluster> ClusterAsync(int first, int second)
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((options, silo) =>
        {
            bool isFirst = options.SiloName.EndsWith('0') || options.SiloName.Contains("Primary", StringComparison.OrdinalIgnoreCase);
            silo.AddSweepMemoryStorage().UseInMemoryReminderService().AddSweep(o =>
            {
                o.Slots = isFirst ? first : second;
                o.ThreadsPerSlot = 1;
                o.Device = "cpu";
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        // Let both silos advertise their slots and every silo's view see them.
        var registry = cluster.Client.GetGrain<ISlotRegistryGrain>(0);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await registry.GetSlotsAsync()).Count < 2) await Task.Delay(100, cts.Token);
        await Task.Delay(1500, cts.Token);
        return cluster;
    }

    private static async Task<(SweepStatus Status, IReadOnlyList<TrialResult> Results, HashSet<string> SeenTogether)> RunAsync(
        InProcessTestCluster cluster, string space, int epochs)
    {
        var spec = SpecParser.Parse($$"""
            { "name": "placement", "regularizer": "l2", "lambda": 1e-4, "training": { "epochs": {{epochs}}, "trainLimit": 1000 },
              "search": { "strategy": "grid", "space": { {{space}} } } }
            """, null);
        string id = $"placement-{Guid.NewGuid():N}";
        var coordinator = cluster.Client.GetGrain<ISweepCoordinatorGrain>(id);
        await coordinator.SubmitAsync(spec, []);
        var together = new HashSet<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        SweepStatus status;
        while (!(status = (await coordinator.GetStatusAsync())!).IsFinished)
        {
            var training = status.RunningTrials.Where(t => t.Epoch >= 1).Select(t => t.Silo).Distinct().ToArray();
            if (training.Length > together.Count) together = training.ToHashSet();
            await Task.Delay(50, cts.Token);
        }
        return (status, await coordinator.GetResultsAsync(0, 100), together);
    }

    [Fact]
    public async Task A_silo_without_slots_gets_no_trials()
    {
        await using var cluster = await ClusterAsync(first: 2, second: 0);
        var (status, results, _) = await RunAsync(cluster, "\"pruneRate\": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]", epochs: 1);
        Assert.Equal(6, status.Completed);
        Assert.InRange(status.InFlightLimit, 1, 2);   // the 0-slot silo adds nothing
        var silos = results.Select(r => r.Silo).Distinct().ToArray();
        Assert.Single(silos);
        string withSlots = cluster.Silos.Select(s => s.SiloAddress).Select(a => cluster.GetSiloServiceProvider(a))
            .Select(sp => (Name: ((Orleans.Runtime.ILocalSiloDetails)sp.GetService(typeof(Orleans.Runtime.ILocalSiloDetails))!).Name,
                           Pool: (Slots.TrialSlotPool)sp.GetService(typeof(Slots.TrialSlotPool))!))
            .Single(s => s.Pool.Capacity == 2).Name;
        Assert.Equal(withSlots, silos[0]);
    }

    [Fact]
    public async Task With_one_slot_on_each_silo_two_trials_train_at_once_one_on_each()
    {
        await using var cluster = await ClusterAsync(first: 1, second: 1);
        var (status, results, together) = await RunAsync(cluster, "\"pruneRate\": [0.5, 0.9]", epochs: 8);
        Assert.Equal(2, status.Completed);
        Assert.Equal(2, results.Select(r => r.Silo).Distinct().Count());
        Assert.Equal(2, together.Count);   // seen training at the same moment on two different silos
    }
}
