using Sweep.Core.Sweeps;
using Sweep.Grains.Slots;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// How many trials a sweep may have in flight: the cluster's places minus those other sweeps' trials occupy (at least
/// one), within the sweep's maxSlotShare; asked of the slot registry at most every 2 s (as often as silos advertise).
/// Busy counts are split by sweep, so a sweep's own just-finished trials never hold its places back.
/// </summary>
internal sealed class ClusterCapacity(IGrainFactory grains)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(2);
    private DateTime _at = DateTime.MinValue;

    /// <summary>The last answer (1 before the first).</summary>
    public int Current { get; private set; } = 1;

    public async Task<int> GetAsync(string sweepId, SweepBook book)
    {
        if (DateTime.UtcNow - _at <= Refresh) return Current;
        var slots = await grains.GetGrain<ISlotRegistryGrain>(0).GetSlotsAsync();
        // Trials that fuse share a slot (a silo offers slots × fusion width places); trials of a model that does not fuse
        // take a slot each, so more of them in flight would only wait in the silos' queues; so do trials whose data does not
        // fuse (augmented), whatever their model.
        bool fuses = book.Spec.Dataset.Fuses;
        int total = slots.Values.Sum(s => fuses && book.Models.All(s.Fuses) ? s.Capacity : s.TrainingSlots);
        int others = slots.Values.Sum(s => s.BusyForOthers(sweepId));
        // maxSlotShare: the most of the cluster's places this sweep takes, whatever is free.
        int share = book.Spec.MaxSlotShare is { } part ? Math.Max(1, (int)Math.Floor(part * total)) : int.MaxValue;
        Current = Math.Max(1, Math.Min(total - others, share));
        _at = DateTime.UtcNow;
        return Current;
    }
}
