using Sweep.Training;
using Orleans.TestingHost;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Silo;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>Trial placement by free training slots, each case on its own in-process cluster of two silos.</summary>
[Collection(ClusterCollection.Name)]   // trains: must not run beside the metrics test, whose counters are process-wide
public sealed class PlacementTests
{
    /// <summary>A cluster whose first silo advertises <paramref name="first"/> slots and the second <paramref name="second"/>.</summary>
    private static async Task<InProcessTestCluster> ClusterAsync(int first, int second, int fuse = 1)
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
                o.FusionWidth = fuse;
                o.FusionLinger = TimeSpan.FromSeconds(1);   // a whole burst fuses, however slowly this machine places it
            }).WithClusterKey();
        });
        builder.ConfigureClient(client => client.AsOperator());
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
            var training = (await coordinator.GetRunningAsync(0, 1000)).Where(t => t.Epoch >= 1).Select(t => t.Silo).Distinct().ToArray();
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
                           Pool: (TrialSlotPool)sp.GetService(typeof(TrialSlotPool))!))
            .Single(s => s.Pool.Capacity == 2).Name;
        Assert.Equal(withSlots, silos[0]);
    }

    [Fact]
    public async Task With_one_slot_on_each_silo_two_trials_train_at_once_one_on_each()
    {
        await using var cluster = await ClusterAsync(first: 1, second: 1);
        // ~2 s each: time to see both at once (progress arrives in each silo's per-second batch)
        var (status, results, together) = await RunAsync(cluster, "\"pruneRate\": [0.5, 0.9]", epochs: 60);
        Assert.Equal(2, status.Completed);
        Assert.Equal(2, results.Select(r => r.Silo).Distinct().Count());
        Assert.Equal(2, together.Count);   // seen training at the same moment on two different silos
    }

    [Fact]
    public async Task Compatible_trials_on_one_slot_train_as_one_fused_group_with_the_unfused_results()
    {
        int largestGroup = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "sweep.fusion.group_size") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => InterlockedMax(ref largestGroup, value));
        listener.Start();

        await using var cluster = await ClusterAsync(first: 1, second: 0, fuse: 4);
        var (status, results, _) = await RunAsync(cluster, "\"pruneRate\": [0.5, 0.6, 0.7, 0.8]", epochs: 1);

        Assert.Equal(4, status.Completed);
        Assert.Equal(4, status.InFlightLimit);   // 1 slot × fusion width 4 = 4 trial places
        Assert.Equal(4, largestGroup);           // all four trained together on the one slot
        foreach (var r in results)
        {
            var alone = Sweep.Training.TrialRunner.Run(new Sweep.Training.TrialSettings(r.Params, DatasetRef.Mnist10k, 1000),
                new("cpu", 1), cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(alone.WeightSparsity, r.WeightSparsity!.Value, 12);
            Assert.Equal(alone.Accuracy, r.Accuracy!.Value, 0.01);
            Assert.Equal(alone.Epochs[0].Loss, r.Epochs[0].Loss, 1e-3 * alone.Epochs[0].Loss);
        }
    }

    [Fact]
    public async Task Trials_of_a_model_that_does_not_fuse_take_a_slot_each()
    {
        await using var cluster = await ClusterAsync(first: 1, second: 0, fuse: 4);
        var (status, results, _) = await RunAsync(cluster, "\"model\": [\"lenet5\"], \"pruneRate\": [0.5, 0.6]", epochs: 1);
        Assert.Equal(2, status.Completed);
        Assert.Equal(1, status.InFlightLimit);   // 1 slot: lenet5 trains one trial at a time, so one in flight, not 4
        Assert.All(results, r => Assert.Equal("lenet5", r.Params.Model));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
