using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Sweep.Grains.Slots;

/// <summary>Places a grain on the compatible silo with the most free training slots.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("Sweep.FreeSlotPlacement")]
public sealed class FreeSlotPlacement : PlacementStrategy
{
    public static readonly FreeSlotPlacement Singleton = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class FreeSlotPlacementAttribute() : PlacementAttribute(FreeSlotPlacement.Singleton);

/// <summary>
/// This silo's view of the cluster's slots: the registry's snapshot, refreshed every second, minus the trials this silo
/// placed since (so a burst of placements spreads out instead of piling onto the silo that looked freest).
/// </summary>
public sealed class SlotView(IGrainFactory grains, ILogger<SlotView> logger) : SiloLoop(logger)
{
    private readonly Lock _lock = new();
    private Dictionary<SiloAddress, SiloSlots> _slots = new();
    private readonly Dictionary<SiloAddress, int> _placedSince = new();

    protected override TimeSpan Period => TimeSpan.FromSeconds(1);

    protected override async Task TickAsync(CancellationToken stop)
    {
        var snapshot = await grains.GetGrain<ISlotRegistryGrain>(0).GetSlotsAsync();
        lock (_lock)
        {
            _slots = snapshot.ToDictionary(kv => SiloAddress.FromParsableString(kv.Key), kv => kv.Value);
            _placedSince.Clear();
        }
    }

    /// <summary>
    /// The silo with the most free slots; without any free slot, the one with most slots per waiting trial; without any
    /// slot information, null (the caller picks at random).
    /// </summary>
    public SiloAddress? Choose(SiloAddress[] compatible)
    {
        lock (_lock)
        {
            SiloAddress? best = null;
            double bestScore = double.NegativeInfinity;
            foreach (var silo in compatible)
            {
                if (!_slots.TryGetValue(silo, out var slots) || slots.Capacity == 0) continue;
                int load = slots.Busy + _placedSince.GetValueOrDefault(silo);
                // Free slots first; when none is free, spread the queue in proportion to capacity.
                double score = load < slots.Capacity ? slots.Capacity - load : -(double)(load + 1) / slots.Capacity;
                if (score > bestScore || score == bestScore && Random.Shared.Next(2) == 0)
                {
                    best = silo;
                    bestScore = score;
                }
            }
            if (best is not null) _placedSince[best] = _placedSince.GetValueOrDefault(best) + 1;
            return best;
        }
    }
}

public sealed class FreeSlotPlacementDirector(SlotView view) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var chosen = view.Choose(compatible) ?? compatible[Random.Shared.Next(compatible.Length)];
        return Task.FromResult(chosen);
    }
}
