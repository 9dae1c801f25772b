using Orleans.Runtime;

namespace Sweep.Grains;

/// <summary>In-memory registry of advertised slots; silos re-advertise every few seconds, so nothing needs persisting.</summary>
public sealed class SlotRegistryGrain : Grain, ISlotRegistryGrain
{
    private readonly Dictionary<string, SiloSlots> _slots = new();
    private (DateTime At, HashSet<string> Silos)? _alive;

    public Task AdvertiseAsync(string silo, SiloSlots slots)
    {
        _slots[silo] = slots;
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyDictionary<string, SiloSlots>> GetSlotsAsync()
    {
        var alive = await AliveAsync();
        return _slots.Where(kv => alive.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    private async Task<HashSet<string>> AliveAsync()
    {
        // Membership changes slowly; asking for it on every call would cost a management round trip each time.
        if (_alive is not { } alive || DateTime.UtcNow - alive.At > TimeSpan.FromSeconds(2))
        {
            var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            alive = (DateTime.UtcNow, hosts.Keys.Select(h => h.ToParsableString()).ToHashSet());
            _alive = alive;
        }
        return alive.Silos;
    }
}
