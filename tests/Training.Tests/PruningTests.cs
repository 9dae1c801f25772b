using Sweep.Training.Pruning;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Sweep.Training.Tests;

public sealed class PruningTests
{
    [Theory]
    [InlineData("magnitude")]
    [InlineData("stochastic")]
    public void The_cpu_selection_prunes_exactly_what_the_tensor_path_prunes(string method)
    {
        // Same weights, same mask (a third already pruned), same generator seed: the same entries must go.
        using var init = new TorchSharp.torch.Generator(42, TorchSharp.torch.CPU);
        using var w = TorchSharp.torch.randn(new long[] { 300, 784 }, generator: init);
        using var m = TorchSharp.torch.rand(new long[] { 300, 784 }, generator: init).gt(0.33).to_type(TorchSharp.torch.ScalarType.Float32);
        w.mul_(m);
        var pruner = Pruner.Create(method, 0.5);
        using var w1 = w.clone(); using var m1 = m.clone();
        using var w2 = w.clone(); using var m2 = m.clone();
        using var g1 = new TorchSharp.torch.Generator(7, TorchSharp.torch.CPU);
        using var g2 = new TorchSharp.torch.Generator(7, TorchSharp.torch.CPU);
        long k = 40_000;
        Assert.Equal(k, pruner.Prune(w1, m1, k, g1));              // contiguous CPU tensors: the C# selection
        Assert.Equal(k, pruner.PruneWithTensors(w2, m2, k, g2));   // the tensor operations every device uses
        long aliveBefore = m.count_nonzero().item<long>();
        Assert.Equal(aliveBefore - k, m1.count_nonzero().item<long>());
        Assert.True(m1.eq(m2).all().item<bool>(), "the two paths chose different entries");
        Assert.True(w1.eq(w2).all().item<bool>());
        Assert.True(w1.eq(0).logical_or(m1.ne(0)).all().item<bool>());   // every pruned entry is zero
    }

    [Fact]
    public void The_schedule_fires_every_interval_and_at_the_end_of_the_ramp_only()
    {
        var schedule = new PruningSchedule(totalSteps: 625, rampFraction: 0.7, interval: 50, rate: 0.9);
        Assert.Equal(437, schedule.RampSteps);
        var events = Enumerable.Range(0, 700).Where(t => schedule.IsEvent(t)).ToArray();
        Assert.Equal(new[] { 50, 100, 150, 200, 250, 300, 350, 400, 437 }, events);
        Assert.Equal(0.9, schedule.TargetSparsity(437), 12);
        Assert.Equal(0.9 * (1 - Math.Pow(1 - 50.0 / 437, 3)), schedule.TargetSparsity(50), 12);
        Assert.Equal(0.0, schedule.TargetSparsity(0));
    }

    [Theory]
    [InlineData("stochastic", 0.9)]
    [InlineData("magnitude", 0.9)]
    [InlineData("stochastic", 0.5)]
    [InlineData("magnitude", 0.123)]
    public void Pruning_reaches_the_exact_rate_at_the_end_of_the_ramp(string method, double rate)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7, CPU);
        var weight = torch.randn(new long[] { 300, 784 }, generator: generator);
        var mask = torch.ones_like(weight);
        var pruner = Pruner.Create(method, 0.5);
        var schedule = new PruningSchedule(totalSteps: 625, rampFraction: 0.7, interval: 50, rate: rate);
        for (long t = 1; t <= schedule.TotalSteps; t++)
            if (schedule.IsEvent(t)) pruner.PruneToSparsity(weight, mask, schedule.TargetSparsity(t), generator);

        long n = weight.numel();
        long expectedZeros = n - (long)Math.Round((1 - rate) * n, MidpointRounding.ToEven);
        Assert.Equal(expectedZeros, n - weight.count_nonzero().item<long>());
        Assert.Equal(expectedZeros, n - mask.count_nonzero().item<long>());
        // Weight and mask agree entry by entry.
        Assert.True(weight.eq(0).eq(mask.eq(0)).all().item<bool>());
    }

    [Fact]
    public void Magnitude_prunes_the_alive_entries_of_smallest_magnitude()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(1, CPU);
        // Distinct magnitudes with mixed signs, shuffled.
        var values = Enumerable.Range(1, 1000).Select(i => (i % 2 == 0 ? -1f : 1f) * i / 1000f).ToArray();
        var order = torch.randperm(1000, generator: generator);
        var weight = torch.tensor(values).index_select(0, order).reshape(10, 100);
        var mask = torch.ones_like(weight);
        // Entries already pruned do not count: kill the 50 largest first.
        var largest = weight.abs().view(-1).topk(50).indexes;
        mask.view(-1).index_fill_(0, largest, 0);
        weight.view(-1).index_fill_(0, largest, 0);

        long pruned = new MagnitudePruner().Prune(weight, mask, 100, generator);

        Assert.Equal(100, pruned);
        var magnitudes = weight.abs().view(-1);
        var alive = magnitudes.masked_select(mask.view(-1).to_type(ScalarType.Bool));
        Assert.Equal(850, alive.numel());
        // Everything below 0.101 (the 100 smallest: 0.001 … 0.100) is gone, everything from 0.101 up is alive.
        Assert.True(alive.min().item<float>() >= 0.1009f);
        Assert.Equal(100, mask.view(-1).eq(0)
            .logical_and(torch.tensor(values).index_select(0, order).abs().le(0.1005f)).sum().item<long>());
    }

    [Fact]
    public void Stochastic_prunes_small_weights_far_more_often_than_large_ones()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(42, CPU);
        const int n = 10_000, rounds = 100, k = 1_000;
        var magnitude = torch.linspace(0.0001, 1.0, n); // deciles by index
        var counts = torch.zeros(n);
        var pruner = new StochasticPruner(0.5);
        for (int r = 0; r < rounds; r++)
        {
            using var step = NewDisposeScope();
            var weight = magnitude.clone();
            var mask = torch.ones_like(weight);
            pruner.Prune(weight, mask, k, generator);
            counts.add_(mask.eq(0).to_type(ScalarType.Float32));
        }
        double smallest = counts.narrow(0, 0, n / 10).sum().item<float>();
        double largest = counts.narrow(0, n - n / 10, n / 10).sum().item<float>();
        Assert.Equal((double)rounds * k, counts.sum().item<float>());
        // With τ = 0.5 and σ ≈ 0.29 the density is ∝ e^(−m/0.144): the smallest decile holds half the mass
        // (1 − e^(−0.69)), the largest about 0.1 %; uniform pruning would give each decile 10 %.
        Assert.True(smallest > 0.4 * rounds * k, $"smallest decile pruned {smallest} times of {rounds * k}");
        Assert.True(largest < 0.005 * rounds * k, $"largest decile pruned {largest} times of {rounds * k}");
        Assert.True(smallest > 100 * Math.Max(largest, 1), $"smallest {smallest} vs largest {largest}");
    }

    [Fact]
    public void Stochastic_single_draws_follow_exp_of_minus_magnitude_over_tau_sigma()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3, CPU);
        var magnitudes = new float[] { 0.1f, 0.2f, 0.4f, 0.8f };
        const double tau = 0.5;
        double mean = magnitudes.Average();
        double sigma = Math.Sqrt(magnitudes.Sum(m => (m - mean) * (m - mean)) / (magnitudes.Length - 1)); // unbiased, as torch.std
        var expected = magnitudes.Select(m => Math.Exp(-m / (tau * sigma))).ToArray();
        double z = expected.Sum();
        const int draws = 20_000;
        var hits = new int[magnitudes.Length];
        var pruner = new StochasticPruner(tau);
        for (int d = 0; d < draws; d++)
        {
            using var step = NewDisposeScope();
            var weight = torch.tensor(magnitudes);
            var mask = torch.ones_like(weight);
            pruner.Prune(weight, mask, 1, generator);
            hits[mask.eq(0).nonzero().item<long>()]++;
        }
        for (int i = 0; i < magnitudes.Length; i++)
        {
            double p = expected[i] / z;
            double sd = Math.Sqrt(p * (1 - p) / draws);
            Assert.InRange(hits[i] / (double)draws, p - 5 * sd, p + 5 * sd);
        }
    }

    [Fact]
    public void None_leaves_every_weight()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5, CPU);
        var weight = torch.randn(new long[] { 100, 30 }, generator: generator);
        var before = weight.clone();
        var mask = torch.ones_like(weight);
        Assert.Equal(0, Pruner.Create("none", 0.5).PruneToSparsity(weight, mask, 0.9, generator));
        Assert.True(weight.eq(before).all().item<bool>());
        Assert.Equal(3000, mask.count_nonzero().item<long>());
    }

    [Fact]
    public void Pruning_never_revives_entries_and_k_is_computed_from_alive_entries()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(9, CPU);
        var weight = torch.randn(new long[] { 1000 }, generator: generator);
        var mask = torch.ones_like(weight);
        var pruner = new StochasticPruner(0.5);
        Assert.Equal(300, pruner.PruneToSparsity(weight, mask, 0.3, generator));
        var deadAfterFirst = mask.eq(0);
        Assert.Equal(200, pruner.PruneToSparsity(weight, mask, 0.5, generator));
        Assert.True(mask.masked_select(deadAfterFirst).eq(0).all().item<bool>());
        Assert.Equal(0, pruner.PruneToSparsity(weight, mask, 0.4, generator)); // below current sparsity: nothing
        Assert.Equal(500, mask.count_nonzero().item<long>());
    }

    [Fact]
    public void The_radix_selection_picks_the_quickselects_set_and_leaves_straddling_ties_to_it()
    {
        var rng = new Random(3);
        for (int round = 0; round < 40; round++)
        {
            int n = rng.Next(2, 20_000), take = rng.Next(1, n);
            // Continuous keys of both signs (Gumbel keys are), a few exact zeros of both signs among them.
            var keys = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-30, 30)))).ToArray();
            keys[rng.Next(n)] = -0f;
            var (radixKeys, radixIndex) = ((float[])keys.Clone(), Enumerable.Range(0, n).ToArray());
            var (quickKeys, quickIndex) = ((float[])keys.Clone(), Enumerable.Range(0, n).ToArray());
            CpuSelection.SelectLargest(radixKeys, radixIndex, n, take);
            CpuSelection.QuickSelect(quickKeys, quickIndex, n, take);
            Assert.Equal(quickIndex.Take(take).Order(), radixIndex.Take(take).Order());
            for (int p = 0; p < n; p++) Assert.Equal(keys[radixIndex[p]], radixKeys[p]);   // keys moved with their entries
        }
        // Ties that fit inside the cut are taken whole; ties that straddle it (which of them go is the quickselect's
        // choice), NaN keys and ±0 straddling it are left to the quickselect, with nothing moved.
        float[] tied = [3, 1, 2, 2, 2, 0];
        var whole = ((float[])tied.Clone(), Enumerable.Range(0, 6).ToArray());
        Assert.True(CpuSelection.RadixSelect(whole.Item1, whole.Item2, 6, 4));
        Assert.Equal([0, 2, 3, 4], whole.Item2.Take(4).Order());
        foreach (var (keys, take) in new[] { (tied, 3), (new float[] { 1, float.NaN, 0 }, 1), (new float[] { 1, -0f, 0f, -1 }, 2) })
        {
            var (k, i) = ((float[])keys.Clone(), Enumerable.Range(0, keys.Length).ToArray());
            Assert.False(CpuSelection.RadixSelect(k, i, keys.Length, take));
            Assert.Equal(Enumerable.Range(0, keys.Length), i);
        }
    }

    [Fact]
    public void Counting_a_masks_alive_entries_matches_libtorch()
    {
        using var generator = new Generator(9, torch.CPU);
        foreach (long n in new long[] { 1, 7, 8, 235_200, 1_000_003 })
        {
            using var mask = torch.rand(new long[] { n }, generator: generator).gt(0.37).to(ScalarType.Float32);
            Assert.Equal(mask.count_nonzero().item<long>(), CpuSelection.CountNonzero(mask));
        }
    }
}
