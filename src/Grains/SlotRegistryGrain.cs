using Orleans.Runtime;

namespace Sweep.Grains;

/// <summary>In-memory registry of advertised slots; silos re-advertise every few seconds, so nothing needs persisting.</summary>
public sealed class SlotRegistryGrain : Grain, ISlotRegistryGrain
{
    private readonly Dictionary<string, int> _slots = new();
    private (DateTime At, HashSet<string> Silos)? _alive;

    public Task AdvertiseAsync(string silo, int slots)
    {
        _slots[silo] = slots;
        return Task.CompletedTask;
    }

    public async Task<int> GetCapacityAsync()
    {
        // Membership changes slowly; asking for it on every call would cost a management round trip each time.
        if (_alive is not { } alive || DateTime.UtcNow - alive.At > TimeSpan.FromSeconds(2))
        {
            var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            alive = (DateTime.UtcNow, hosts.Keys.Select(h => h.ToParsableString()).ToHashSet());
            _alive = alive;
        }
        int total = _slots.Where(kv => alive.Silos.Contains(kv.Key)).Sum(kv => kv.Value);
        return Math.Max(1, total);
    }
}
