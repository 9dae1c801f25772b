using System.Buffers;
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

    /// <summary>Reorders (keys, index)[0..count) so that the first <paramref name="take"/> hold the largest keys (quickselect).</summary>
    internal static void SelectLargest(float[] keys, int[] index, int count, int take)
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
