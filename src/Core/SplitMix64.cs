namespace Sweep.Core;

/// <summary>
/// SplitMix64: a tiny, fully specified RNG used for the dataset split, so that any implementation
/// (the benchmark's Python peer included) can draw the same permutation from seed 0.
/// </summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform double in [0, 1) from the top 53 bits of <see cref="Next"/>.</summary>
    public double NextUnit() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Fisher–Yates from the last index down; j = Next() mod (i + 1).</summary>
    public static int[] Permutation(int count, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var p = new int[count];
        for (int i = 0; i < count; i++) p[i] = i;
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)(rng.Next() % (ulong)(i + 1));
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
