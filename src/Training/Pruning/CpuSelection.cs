using System.Buffers;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace Sweep.Training.Pruning;

/// <summary>
/// <see cref="Pruner.Prune"/> for contiguous float tensors on the CPU, without a dozen intermediate tensors: the alive
/// entries and their magnitudes in one pass, the pruner's keys, a linear-time selection of the k largest, and the
/// chosen entries zeroed in mask and weight. Same draws and same rule as the tensor path.
/// </summary>
internal static unsafe class CpuSelection
{
    public static long Prune(Pruner pruner, Tensor weight, Tensor mask, long k, Generator generator)
    {
        long n = weight.numel();
        if (n > int.MaxValue) throw new ArgumentException("tensor too large to prune on the CPU path");
        float* w = (float*)Fusion.StackedState.DataPointer(weight);
        float* m = (float*)Fusion.StackedState.DataPointer(mask);
        var index = ArrayPool<int>.Shared.Rent((int)n);
        var magnitude = ArrayPool<float>.Shared.Rent((int)n);
        var keys = ArrayPool<float>.Shared.Rent((int)n);
        try
        {
            // Branch-free: a pruned entry is written and then overwritten (masks are random-looking after the first event,
            // and a mispredicted branch per entry cost more than the store).
            int alive = 0;
            for (int i = 0; i < n; i++)
            {
                index[alive] = i;
                magnitude[alive] = MathF.Abs(w[i]);
                alive += m[i] != 0 ? 1 : 0;
            }
            int take = (int)Math.Min(k, alive);
            if (take <= 0) return 0;
            pruner.FillKeys(magnitude.AsSpan(0, alive), keys.AsSpan(0, alive), generator);
            SelectLargest(keys, index, alive, take);
            for (int j = 0; j < take; j++)
            {
                m[index[j]] = 0;
                w[index[j]] = 0;
            }
            return take;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(index);
            ArrayPool<float>.Shared.Return(magnitude);
            ArrayPool<float>.Shared.Return(keys);
        }
    }

    /// <summary>
    /// Reorders (keys, index)[0..count) so that the first <paramref name="take"/> hold the largest keys. When no tie
    /// straddles the cut (the usual case: keys are continuous), the set is unique and a radix select finds it in four
    /// branch-light passes; otherwise (and with NaN keys) the quickselect decides, as it always did.
    /// </summary>
    internal static void SelectLargest(float[] keys, int[] index, int count, int take)
    {
        if (take >= count || take <= 0) return;
        if (!RadixSelect(keys, index, count, take)) QuickSelect(keys, index, count, take);
    }

    /// <summary>
    /// The nonzero entries of a contiguous float tensor on the CPU, in one vectorized pass (libtorch's count_nonzero took
    /// 1 ms for a first layer's mask after pruning: a branch per entry on a random pattern).
    /// </summary>
    public static long CountNonzero(Tensor mask)
    {
        long n = mask.numel();
        float* m = (float*)Fusion.StackedState.DataPointer(mask);
        long zeros = 0, i = 0;
        while (i + 8 <= n)
        {
            // Each zero lane adds −1; a block of at most 2^20 vectors keeps the lanes far from overflow.
            var counts = Vector256<int>.Zero;
            long end = Math.Min(n - 7, i + (8L << 20));
            for (; i < end; i += 8) counts += Vector256.Equals(Vector256.Load(m + i), Vector256<float>.Zero).AsInt32();
            zeros -= Vector256.Sum(counts);
        }
        for (; i < n; i++) zeros += m[i] == 0 ? 1 : 0;
        return n - zeros;
    }

    /// <summary>The radix select's digits (shift, bits), most significant first.</summary>
    private static readonly (int Shift, int Bits)[] RadixDigits = [(21, 11), (10, 11), (0, 10)];

    /// <summary>A key's bits mapped so that unsigned order is float order (−0 as +0).</summary>
    private static uint Ordered(float key)
    {
        uint bits = BitConverter.SingleToUInt32Bits(key);
        if (bits == 0x8000_0000u) bits = 0;
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    /// <summary>
    /// The radix path of <see cref="SelectLargest"/>: the take-th largest key's ordered bits, 11 + 11 + 10 bits at a
    /// time; false (nothing moved) when a key is NaN or keys equal to it straddle the cut.
    /// </summary>
    internal static bool RadixSelect(float[] keys, int[] index, int count, int take)
    {
        Span<int> histogram = stackalloc int[2048];
        uint prefix = 0, prefixMask = 0;
        int remaining = take;   // how many of the largest are still to be found among keys matching the prefix
        foreach (var (shift, bits) in RadixDigits)
        {
            histogram.Clear();
            uint binMask = (1u << bits) - 1;
            for (int i = 0; i < count; i++)
            {
                float key = keys[i];
                if (float.IsNaN(key)) return false;
                uint o = Ordered(key);
                if ((o & prefixMask) == prefix) histogram[(int)((o >> shift) & binMask)]++;
            }
            int bin = (int)binMask;
            while (histogram[bin] < remaining) remaining -= histogram[bin--];
            prefix |= (uint)bin << shift;
            prefixMask |= binMask << shift;
        }
        // prefix is now the take-th largest key (ordered bits); remaining of the keys equal to it belong to the largest.
        int equal = 0;
        for (int i = 0; i < count; i++) equal += Ordered(keys[i]) == prefix ? 1 : 0;
        if (equal != remaining) return false;   // a tie straddles the cut: which tied keys go is the quickselect's choice
        // Every key ≥ the cut to the front (order within either part does not matter).
        int front = 0;
        for (int i = 0; i < count; i++)
        {
            if (Ordered(keys[i]) < prefix) continue;
            (keys[front], keys[i]) = (keys[i], keys[front]);
            (index[front], index[i]) = (index[i], index[front]);
            front++;
        }
        return true;
    }

    /// <summary>The quickselect of <see cref="SelectLargest"/> (Hoare partition, median of three).</summary>
    internal static void QuickSelect(float[] keys, int[] index, int count, int take)
    {
        if (take >= count) return;
        int lo = 0, hi = count - 1, target = take - 1;
        while (lo < hi)
        {
            // Median of three as the pivot; descending partition (Hoare).
            int mid = lo + (hi - lo) / 2;
            float a = keys[lo], b = keys[mid], c = keys[hi];
            float pivot = a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] > pivot) i++;
                while (keys[j] < pivot) j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    (index[i], index[j]) = (index[j], index[i]);
                    i++; j--;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return;
        }
    }
}
