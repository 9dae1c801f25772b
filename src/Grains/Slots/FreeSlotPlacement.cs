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
/// This silo's view of the cluster's slots: the registry's snapshot, refreshed every second, plus the trials this silo
/// placed that the snapshot does not show yet (so a burst of placements spreads out instead of piling onto the silo that
/// looked freest). A placement stays counted until the silo's advert shows that many more trials arrived there, or for
/// <see cref="PendingLimit"/> at most: a refresh alone never forgets one (a snapshot is up to 3 s old, older than the
/// placements it would wipe).
/// </summary>
public sealed class SlotView(IGrainFactory grains, ILogger<SlotView> logger) : SiloLoop(logger)
{
    /// <summary>How long a placement counts without its trial arriving (it may have failed to activate).</summary>
    public static readonly TimeSpan PendingLimit = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private Dictionary<SiloAddress, SiloSlots> _slots = new();
    private readonly Dictionary<SiloAddress, Queue<long>> _pending = new();
    private readonly Dictionary<SiloAddress, long> _arrived = new();

    protected override TimeSpan Period => TimeSpan.FromSeconds(1);

    protected override async Task TickAsync(CancellationToken stop)
    {
        var snapshot = await grains.GetGrain<ISlotRegistryGrain>(0).GetSlotsAsync();
        Refresh(snapshot.ToDictionary(kv => SiloAddress.FromParsableString(kv.Key), kv => kv.Value));
    }

    /// <summary>Takes a registry snapshot: placements whose trials it shows arrived stop counting as pending.</summary>
    public void Refresh(Dictionary<SiloAddress, SiloSlots> snapshot)
    {
        long now = Environment.TickCount64;
        lock (_lock)
        {
            foreach (var (silo, slots) in snapshot)
            {
                if (_arrived.TryGetValue(silo, out long before) && _pending.TryGetValue(silo, out var pending))
                    for (long seen = slots.Arrived - before; seen > 0 && pending.Count > 0; seen--) pending.Dequeue();
                _arrived[silo] = slots.Arrived;
            }
            foreach (var pending in _pending.Values)
                while (pending.Count > 0 && now - pending.Peek() > PendingLimit.TotalMilliseconds) pending.Dequeue();
            _slots = snapshot;
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
                int load = slots.Busy + slots.Waiting + (_pending.TryGetValue(silo, out var pending) ? pending.Count : 0);
                // Free slots first; when none is free, spread the queue in proportion to capacity.
                double score = load < slots.Capacity ? slots.Capacity - load : -(double)(load + 1) / slots.Capacity;
                if (score > bestScore || score == bestScore && Random.Shared.Next(2) == 0)
                {
                    best = silo;
                    bestScore = score;
                }
            }
            if (best is not null)
            {
                if (!_pending.TryGetValue(best, out var placed)) _pending[best] = placed = new Queue<long>();
                placed.Enqueue(Environment.TickCount64);
            }
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
