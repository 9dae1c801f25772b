using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Sweep.Grains.Slots;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>
/// The placement view's bookkeeping of its own placements. The registry's snapshot lags placements by up to 3 s (adverts
/// every 2 s, the view's refresh every 1 s): a placement must count until the silo shows its trial arrived.
/// </summary>
public sealed class SlotViewTests
{
    private static readonly SiloAddress A = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress B = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);

    private static SiloSlots Slots(int busy = 0, long arrived = 0, int waiting = 0) =>
        new(1, busy, new Dictionary<string, int>(), 1, null, arrived, waiting);

    // The view reads the registry only in its loop; these tests hand it snapshots directly.
    private static SlotView View() => new(null!, NullLogger<SlotView>.Instance);

    [Fact]
    public void Two_placements_with_a_refresh_between_them_go_to_two_free_silos()
    {
        for (int round = 0; round < 50; round++)
        {
            var view = View();
            view.Refresh(new() { [A] = Slots(), [B] = Slots() });
            var first = view.Choose([A, B]);
            // The refresh comes from adverts made before the first placement's trial arrived: both still look free.
            view.Refresh(new() { [A] = Slots(), [B] = Slots() });
            var second = view.Choose([A, B]);
            Assert.NotEqual(first, second);
        }
    }

    [Fact]
    public void A_trial_placed_before_a_refresh_still_counts_until_its_silo_shows_it()
    {
        for (int round = 0; round < 50; round++)
        {
            var view = View();
            // A is still busy with an earlier test's trial; B is free and takes the first new one.
            view.Refresh(new() { [A] = Slots(busy: 1, arrived: 5), [B] = Slots(arrived: 3) });
            Assert.Equal(B, view.Choose([A, B]));
            // A's trial ended; B's new trial has not arrived by this snapshot: B is not free for a second one.
            view.Refresh(new() { [A] = Slots(arrived: 5), [B] = Slots(arrived: 3) });
            Assert.Equal(A, view.Choose([A, B]));
        }
    }

    [Fact]
    public void A_placement_stops_counting_once_its_trial_arrived_and_is_counted_busy()
    {
        var view = View();
        view.Refresh(new() { [A] = Slots(arrived: 2), [B] = Slots(arrived: 7) });
        var first = view.Choose([A, B])!;
        // The advert now shows the trial: arrived one more, busy. The placement must not count twice.
        var other = first == A ? B : A;
        view.Refresh(new() { [first] = Slots(busy: 1, arrived: first == A ? 3 : 8), [other] = Slots(arrived: first == A ? 7 : 2) });
        var second = view.Choose([A, B]);
        Assert.NotEqual(first, second);
        // Both busy now, each with its trial: the next goes to either, not always to one that looked emptier by a ghost.
        view.Refresh(new() { [A] = Slots(busy: 1, arrived: 3), [B] = Slots(busy: 1, arrived: 8) });
        var seen = new HashSet<SiloAddress>();
        for (int i = 0; i < 40; i++)
        {
            var v = View();
            v.Refresh(new() { [A] = Slots(busy: 1, arrived: 3), [B] = Slots(busy: 1, arrived: 8) });
            seen.Add(v.Choose([A, B])!);
        }
        Assert.Equal(2, seen.Count);
    }
}
