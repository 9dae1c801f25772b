using Orleans.TestingHost;
using Sweep.Silo;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>A real in-process Orleans cluster of two silos, one CPU training slot each, shared by a test collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddSweepMemoryStorage().UseInMemoryReminderService().AddActivityPropagation().AddSweep(o =>
        {
            o.Slots = 1;
            o.FusionWidth = 1;   // one trial per slot: the tests count in-flight trials against slots (fusion: PlacementTests)
            o.ThreadsPerSlot = 1;
            o.Device = "cpu";
        }));
        builder.ConfigureClient(client => client.AddActivityPropagation());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        // Sweeps size their fan-out from the advertised slots: start testing once both silos have advertised.
        var registry = Cluster.Client.GetGrain<ISlotRegistryGrain>(0);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await registry.GetSlotsAsync()).Count < 2) await Task.Delay(100, cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
