using Sweep.Core.Sweeps;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>The coordinator's done set: a prefix and a window, equal to a plain set of indexes.</summary>
public sealed class DoneSetTests
{
    [Fact]
    public void It_agrees_with_a_hash_set_under_random_marks_and_survives_a_save()
    {
        var random = new Random(7);
        var set = new DoneSet();
        var truth = new HashSet<int>();
        for (int i = 0; i < 50_000; i++)
        {
            // Mostly near the front (as trials finish), sometimes far ahead.
            int index = random.Next(10) == 0 ? random.Next(60_000) : Math.Max(0, set.Prefix + random.Next(300));
            Assert.Equal(truth.Add(index), set.Add(index));
        }
        Assert.Equal(truth.Count, set.Count);
        var (prefix, window) = set.Save();
        var again = new DoneSet(prefix, window);
        Assert.Equal(set.Count, again.Count);
        for (int i = 0; i < 61_000; i++) Assert.Equal(truth.Contains(i), again.Contains(i));
        Assert.All(Enumerable.Range(0, prefix), i => Assert.Contains(i, truth));
    }

    [Fact]
    public void Marking_every_index_in_order_leaves_an_empty_window()
    {
        var set = new DoneSet();
        for (int i = 0; i < 100_000; i++) Assert.True(set.Add(i));
        Assert.False(set.Add(5));
        var (prefix, window) = set.Save();
        Assert.Equal((100_000, 0), (prefix, window.Length));
        Assert.False(set.Contains(100_000));
        Assert.False(set.Contains(-1));
    }
}

/// <summary>Index sets as runs: what a coordinator persists of its fronts' members.</summary>
public sealed class IndexRunsTests
{
    [Fact]
    public void Runs_round_trip_and_a_solid_range_takes_a_few_bytes()
    {
        var random = new Random(3);
        var sparse = Enumerable.Range(0, 2000).Where(_ => random.Next(3) == 0).Select(i => i * 7 + 1).ToArray();
        Assert.Equal(sparse, IndexRuns.Decode(IndexRuns.Encode(sparse)));
        Assert.Equal([5], IndexRuns.Decode(IndexRuns.Encode([5])));
        Assert.Empty(IndexRuns.Decode(IndexRuns.Encode([])));
        var all = Enumerable.Range(0, 100_000).ToArray();
        var encoded = IndexRuns.Encode(all);
        Assert.True(encoded.Length <= 4, $"{encoded.Length} bytes");
        Assert.Equal(all, IndexRuns.Decode(encoded));
        Assert.Throws<ArgumentException>(() => IndexRuns.Encode([3, 2]));
    }
}
