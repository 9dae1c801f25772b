using Sweep.Training;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Sweep.Grains.Slots;

/// <summary>Tells the cluster's slot registry this silo's training slots (capacity and busy), once active and then every 2 s.</summary>
public sealed class SlotAdvertiser(IGrainFactory grains, ILocalSiloDetails silo, TrialSlotPool pool, ILogger<SlotAdvertiser> logger)
    : SiloLoop(logger)
{
    protected override TimeSpan Period => TimeSpan.FromSeconds(2);

    /// <summary>True once the registry has this silo's slots (part of readiness).</summary>
    public bool HasAdvertised { get; private set; }

    protected override async Task TickAsync(CancellationToken stop)
    {
        await grains.GetGrain<ISlotRegistryGrain>(0).AdvertiseAsync(silo.SiloAddress.ToParsableString(),
            new SiloSlots(pool.Capacity, pool.Busy, pool.BusyBySweep(), pool.Slots, pool.FusingModels, pool.Arrived, pool.Waiting));
        HasAdvertised = true;
    }
}
