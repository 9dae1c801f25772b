using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>The cluster's training slots as the silos advertise them (key 0).</summary>
[Alias("Sweep.ISlotRegistryGrain")]
public interface ISlotRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>A silo's slots (sent at start and then every couple of seconds).</summary>
    [Alias("Advertise")]
    Task AdvertiseAsync(string silo, SiloSlots slots);

    /// <summary>The slots of every silo that is alive now, keyed by silo address.</summary>
    [Alias("GetSlots")]
    Task<IReadOnlyDictionary<string, SiloSlots>> GetSlotsAsync();
}
