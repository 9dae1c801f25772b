using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
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
        }).WithClusterKey());
        builder.ConfigureClient(client => client.AddActivityPropagation().AsOperator());
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

/// <summary>
/// The test clusters' silos share a cluster key, and the test client holds it too: tests drive internal methods (trial
/// reports, slot adverts) as a silo would. <see cref="AsPlainClient"/> makes the client's calls those of an ordinary
/// client, which the silos must refuse for internal methods.
/// </summary>
public static class TestCredentials
{
    public const string ClusterKey = "test-cluster-key-0123456789";
    private static readonly AsyncLocal<bool> Plain = new();

    public static ISiloBuilder WithClusterKey(this ISiloBuilder silo)
    {
        silo.Services.Configure<Sweep.Grains.Security.SweepSecurityOptions>(o => o.ClusterKey = ClusterKey);
        return silo;
    }

    public static IClientBuilder AsOperator(this IClientBuilder client) => client.AddOutgoingGrainCallFilter(async call =>
    {
        if (!Plain.Value) RequestContext.Set(SweepCredentials.ClusterKey, ClusterKey);
        try { await call.Invoke(); }
        finally { RequestContext.Remove(SweepCredentials.ClusterKey); }
    });

    /// <summary>Until disposed, this flow's calls carry no cluster key.</summary>
    public static IDisposable AsPlainClient()
    {
        Plain.Value = true;
        return new Reset();
    }

    private sealed class Reset : IDisposable
    {
        public void Dispose() => Plain.Value = false;
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
