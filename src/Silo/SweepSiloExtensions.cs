using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Sweep.Grains;
using Sweep.Grains.Slots;

namespace Sweep.Silo;

/// <summary>Everything a silo needs to run Sweep's grains, independent of how the cluster is formed.</summary>
public static class SweepSiloExtensions
{
    /// <summary>Adds the training slots, their advertiser, and Sweep's grain storage (in memory unless another is configured).</summary>
    public static ISiloBuilder AddSweep(this ISiloBuilder silo, Action<TrialSlotOptions>? slots = null)
    {
        var options = silo.Services.AddOptions<TrialSlotOptions>().BindConfiguration("Sweep");
        if (slots is not null) options.Configure(slots);
        silo.Services.AddSingleton<TrialSlotPool>();
        silo.Services.AddSingleton<SlotAdvertiser>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SlotAdvertiser>());
        // Training epochs take a while; a grain call that waits on one must not time out as an ordinary call would.
        silo.Services.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(2));
        return silo;
    }

    /// <summary>Localhost clustering: every silo on 127.0.0.1, the primary's silo port as the seed.</summary>
    public static ISiloBuilder UseSweepLocalhostClustering(this ISiloBuilder silo, SweepSiloOptions o)
    {
        o.Validate();
        return silo.UseLocalhostClustering(o.SiloPort, o.GatewayPort, new IPEndPoint(IPAddress.Loopback, o.PrimarySiloPort), o.ServiceId, o.ClusterId);
    }

    /// <summary>The in-memory storage of localhost and embedded mode (lost when every silo stops).</summary>
    public static ISiloBuilder AddSweepMemoryStorage(this ISiloBuilder silo) => silo.AddMemoryGrainStorage(SweepStorage.Name);
}
