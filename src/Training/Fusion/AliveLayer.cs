using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sweep.Training.Fusion;

/// <summary>
/// One trial's first layer reduced to its alive entries (exact sparse training). A pruned weight is zero and stays zero
/// (masks are permanent), so its gradient, momentum and penalty change nothing any result depends on; once a pruning
/// event leaves few enough weights alive, the trial's first layer trains from this structure instead of the dense
/// tensors, which go stale until <see cref="WriteBack"/>.
/// <para>
/// The entries are stored by unit (each unit's alive inputs ascending) with their weights and momentum, and every
/// product runs over the batch's samples in vector lanes: the forward sums w[j, u] · x[·, j] over the unit's alive
/// inputs, the gradient of (j, u) is the dot product of the input's and the unit's columns over the samples. Work is
/// proportional to the alive entries (the dense kernels' is to the nonzero pixels times all units).
/// </para>
/// For the first layer (stored input-major) the forward's floats are the dense kernel's own, bit for bit
/// (<see cref="SparseKernels.Forward"/>): each pre-activation sums the same nonzero terms in the same order with the same
/// fused or unfused operations (a pruned weight's term and an absent pixel's term are exact no-ops there), and the
/// optimizer step is the dense kernel's arithmetic. The weight gradient sums the same products in another order (lanes
/// over samples, then across lanes), so weights differ from the dense path's by float rounding. The second layer's
/// dense path is libtorch's products, whose summation order is its own: there the alive kernels agree to rounding.
/// </summary>
internal sealed unsafe class AliveLayer
{
    private const int Lanes = 8;
    /// <summary>Samples per block of the products (eight accumulators of eight lanes).</summary>
    public const int Block = 64;

    public readonly int Inputs, Units;
    public int Alive { get; private set; }
    private readonly int _vecEnd;              // units below use fused arithmetic (the dense kernels' vector lanes)
    private readonly int[] _start;             // per unit: its entries
    private int[] _input = [];                 // each entry's input
    private float[] _w = [], _v = [];          // each entry's weight and momentum
    private float[] _g = [];                   // each entry's gradient in a step
    private float[] _partial = [];             // a block's partial sums between tiles (row-major output)
    private int[] _tileStart = [];             // per unit, per tile of inputs: its first entry there
    private int _tileInputs;                   // inputs per tile _tileStart was made for

    /// <summary>
    /// A layer of <paramref name="inputs"/> → <paramref name="units"/>, its dense tensors stored input-major ([inputs,
    /// units], the fused trainer's first layer) or unit-major ([units, inputs], the others).
    /// </summary>
    public AliveLayer(int inputs, int units, bool inputMajor)
    {
        Inputs = inputs; Units = units;
        _inputMajor = inputMajor;
        _vecEnd = units / Lanes * Lanes;
        _start = new int[units + 1];
    }

    /// <summary>
    /// Tiles of inputs for a stride: as many inputs as keep their rows of a [inputs, stride] operand within 24 KB (the
    /// core's 32 KB L1 cache holds them while every unit reads them; from L2 the products ran at half the FMA rate).
    /// Rebuilds the tile index when the choice changes (a new stride, or a rebuild that left fewer entries).
    /// </summary>
    private int Tiles(int stride)
    {
        // A sparse layer (under 24 entries a unit) reads little of the operand: one tile, no partial sums in memory.
        int perTile = Alive < 24 * Units ? Inputs : Math.Max(Lanes, 24 * 1024 / (stride * sizeof(float)));
        if (perTile != _tileInputs)
        {
            int tiles = (Inputs + perTile - 1) / perTile;
            _tileStart = new int[Units * (tiles + 1)];
            _tileInputs = perTile;
            IndexTiles();
        }
        return (Inputs + perTile - 1) / perTile;
    }

    /// <summary>Where each unit's entries cross into each tile (entries are sorted by input within a unit).</summary>
    private void IndexTiles()
    {
        if (_tileInputs == 0) return;
        int tiles = (Inputs + _tileInputs - 1) / _tileInputs;
        for (int u = 0; u < Units; u++)
        {
            int q = _start[u];
            for (int tile = 0; tile <= tiles; tile++)
            {
                int limit = Math.Min(Inputs, tile * _tileInputs);
                while (q < _start[u + 1] && _input[q] < limit) q++;
                _tileStart[u * (tiles + 1) + tile] = tile == tiles ? _start[u + 1] : q;
            }
        }
    }

    private readonly bool _inputMajor;

    /// <summary>Where entry (input j, unit u) is in the dense tensors.</summary>
    private long At(int j, int u) => _inputMajor ? (long)j * Units + u : (long)u * Inputs + j;

    /// <summary>Rebuilds the structure from the dense tensors (w, momentum v, mask bytes).</summary>
    public void Build(float* w, float* v, byte* mask)
    {
        Array.Clear(_start);
        for (int j = 0; j < Inputs; j++)
            for (int u = 0; u < Units; u++) _start[u + 1] += mask[At(j, u)] != 0 ? 1 : 0;
        for (int u = 0; u < Units; u++) _start[u + 1] += _start[u];
        int alive = _start[Units];
        if (_w.Length < alive)
        {
            _input = new int[alive]; _w = new float[alive]; _v = new float[alive]; _g = new float[alive];
        }
        Alive = alive;
        var next = _start.AsSpan(0, Units).ToArray();
        for (int j = 0; j < Inputs; j++)
            for (int u = 0; u < Units; u++)
            {
                long at = At(j, u);
                if (mask[at] == 0) continue;
                int q = next[u]++;
                _input[q] = j; _w[q] = w[at]; _v[q] = v[at];
            }
        IndexTiles();
    }

    /// <summary>Writes the alive weights and momentum back into the dense tensors (pruned entries are left as they are).</summary>
    public void WriteBack(float* w, float* v)
    {
        for (int u = 0; u < Units; u++)
            for (int q = _start[u]; q < _start[u + 1]; q++)
            {
                long at = At(_input[q], u);
                w[at] = _w[q];
                v[at] = _v[q];
            }
    }

    /// <summary>
    /// The gradient below the layer, before its step: dxt[j, s] = Σ_u w[j, u] · dzt[u, s] over alive (j, u), unit by unit
    /// (dxt and dzt [*, stride]; dxt is overwritten).
    /// </summary>
    public void BackwardInput(float* dzt, int stride, float* dxt)
    {
        new Span<float>(dxt, Inputs * stride).Clear();
        fixed (int* start = _start, input = _input)
        fixed (float* wq = _w)
        {
            for (int u = 0; u < Units; u++)
            {
                float* d = dzt + (long)u * stride;
                for (int s0 = 0; s0 < stride; s0 += Block)
                {
                    Vector256<float> d0 = Vector256.Load(d + s0), d1 = Vector256.Load(d + s0 + 8), d2 = Vector256.Load(d + s0 + 16),
                        d3 = Vector256.Load(d + s0 + 24), d4 = Vector256.Load(d + s0 + 32), d5 = Vector256.Load(d + s0 + 40),
                        d6 = Vector256.Load(d + s0 + 48), d7 = Vector256.Load(d + s0 + 56);
                    for (int q = start[u]; q < start[u + 1]; q++)
                    {
                        var w = Vector256.Create(wq[q]);
                        float* x = dxt + (long)input[q] * stride + s0;
                        Vector256.FusedMultiplyAdd(w, d0, Vector256.Load(x)).Store(x);
                        Vector256.FusedMultiplyAdd(w, d1, Vector256.Load(x + 8)).Store(x + 8);
                        Vector256.FusedMultiplyAdd(w, d2, Vector256.Load(x + 16)).Store(x + 16);
                        Vector256.FusedMultiplyAdd(w, d3, Vector256.Load(x + 24)).Store(x + 24);
                        Vector256.FusedMultiplyAdd(w, d4, Vector256.Load(x + 32)).Store(x + 32);
                        Vector256.FusedMultiplyAdd(w, d5, Vector256.Load(x + 40)).Store(x + 40);
                        Vector256.FusedMultiplyAdd(w, d6, Vector256.Load(x + 48)).Store(x + 48);
                        Vector256.FusedMultiplyAdd(w, d7, Vector256.Load(x + 56)).Store(x + 56);
                    }
                }
            }
        }
    }

    /// <summary>
    /// a[s, u] = relu(bias[u] + Σ_j x[s, j] · w[j, u]) over alive (j, u), for samples s &lt; <paramref name="count"/>;
    /// <paramref name="xt"/> holds the inputs input-major ([inputs, stride], stride a multiple of <see cref="Block"/>,
    /// zero past the samples and where a sample lacks the input).
    /// </summary>
    public void Forward(float* xt, int stride, int count, float* bias, float* a) => Forward(xt, stride, count, bias, a, false);

    /// <summary>
    /// As <see cref="Forward(float*, int, int, float*, float*)"/>, the activations stored unit-major ([units, stride], zero
    /// past the samples) for a next layer that reads them so (<paramref name="unitMajor"/>), else row-major.
    /// </summary>
    public void Forward(float* xt, int stride, int count, float* bias, float* a, bool unitMajor)
    {
        float* lanes = stackalloc float[Block];
        int tiles = Tiles(stride);
        // Partial sums between tiles: in the output itself when it is unit-major, else in a buffer of one block.
        if (!unitMajor && _partial.Length < Units * Block) _partial = GC.AllocateArray<float>(Units * Block, pinned: true);
        fixed (int* tileStart = _tileStart, input = _input)
        fixed (float* wq = _w, partial = _partial)
        {
            for (int s0 = 0; s0 < count; s0 += Block)
            {
                int inBlock = Math.Min(Block, count - s0);
                for (int tile = 0; tile < tiles; tile++)
                {
                    bool first = tile == 0, last = tile == tiles - 1;
                    for (int u = 0; u < Units; u++)
                    {
                        int q0 = tileStart[u * (tiles + 1) + tile], q1 = tileStart[u * (tiles + 1) + tile + 1];
                        if (q0 == q1 && !first && !last) continue;
                        float* sum = unitMajor ? a + (long)u * stride + s0 : partial + (long)u * Block;
                        Vector256<float> a0, a1, a2, a3, a4, a5, a6, a7;
                        if (first) a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = Vector256.Create(bias[u]);
                        else
                        {
                            a0 = Vector256.Load(sum); a1 = Vector256.Load(sum + 8); a2 = Vector256.Load(sum + 16);
                            a3 = Vector256.Load(sum + 24); a4 = Vector256.Load(sum + 32); a5 = Vector256.Load(sum + 40);
                            a6 = Vector256.Load(sum + 48); a7 = Vector256.Load(sum + 56);
                        }
                        if (u < _vecEnd)
                        {
                            // Absent inputs are zero rows of xt: their terms are exact no-ops, cheaper than a mispredicted branch.
                            for (int q = q0; q < q1; q++)
                            {
                                var w = Vector256.Create(wq[q]);
                                float* x = xt + (long)input[q] * stride + s0;
                                a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x), a0);
                                a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x + 8), a1);
                                a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x + 16), a2);
                                a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x + 24), a3);
                                a4 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x + 32), a4);
                                a5 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x + 40), a5);
                                a6 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x + 48), a6);
                                a7 = Vector256.FusedMultiplyAdd(w, Vector256.Load(x + 56), a7);
                            }
                        }
                        else
                        {
                            // The dense kernel's scalar tail: product and sum rounded separately.
                            for (int q = q0; q < q1; q++)
                            {
                                var w = Vector256.Create(wq[q]);
                                float* x = xt + (long)input[q] * stride + s0;
                                a0 += w * Vector256.Load(x); a1 += w * Vector256.Load(x + 8);
                                a2 += w * Vector256.Load(x + 16); a3 += w * Vector256.Load(x + 24);
                                a4 += w * Vector256.Load(x + 32); a5 += w * Vector256.Load(x + 40);
                                a6 += w * Vector256.Load(x + 48); a7 += w * Vector256.Load(x + 56);
                            }
                        }
                        if (!last)
                        {
                            a0.Store(sum); a1.Store(sum + 8); a2.Store(sum + 16); a3.Store(sum + 24);
                            a4.Store(sum + 32); a5.Store(sum + 40); a6.Store(sum + 48); a7.Store(sum + 56);
                            continue;
                        }
                        if (u < _vecEnd)
                        {
                            var zero = Vector256<float>.Zero;
                            Vector256.Max(a0, zero).Store(lanes); Vector256.Max(a1, zero).Store(lanes + 8);
                            Vector256.Max(a2, zero).Store(lanes + 16); Vector256.Max(a3, zero).Store(lanes + 24);
                            Vector256.Max(a4, zero).Store(lanes + 32); Vector256.Max(a5, zero).Store(lanes + 40);
                            Vector256.Max(a6, zero).Store(lanes + 48); Vector256.Max(a7, zero).Store(lanes + 56);
                        }
                        else
                        {
                            a0.Store(lanes); a1.Store(lanes + 8); a2.Store(lanes + 16); a3.Store(lanes + 24);
                            a4.Store(lanes + 32); a5.Store(lanes + 40); a6.Store(lanes + 48); a7.Store(lanes + 56);
                            for (int i = 0; i < inBlock; i++) lanes[i] = MathF.Max(lanes[i], 0);
                        }
                        if (unitMajor)
                        {
                            for (int i = 0; i < Block; i += Lanes) Vector256.Load(lanes + i).Store(sum + i);
                            for (int i = inBlock; i < Block; i++) sum[i] = 0;
                            continue;
                        }
                        float* column = a + (long)s0 * Units + u;
                        for (int i = 0; i < inBlock; i++) column[(long)i * Units] = lanes[i];
                    }
                }
            }
        }
        // Unit-major: the blocks past the samples are zero too (the next layer's products run over the whole stride).
        int written = (count + Block - 1) / Block * Block;
        if (unitMajor && written < stride)
            for (int u = 0; u < Units; u++) new Span<float>(a + (long)u * stride + written, stride - written).Clear();
    }

    /// <summary>
    /// The alive entries' optimizer step: each alive (j, u)'s gradient Σ_s x[s, j] · dz[s, u], a dot product over the
    /// batch's samples (<paramref name="xt"/> input-major and <paramref name="dzt"/> unit-major, both [*, stride] and zero
    /// past the samples), plus l1·sign(w) + l2·w, then v = μ·v + g, w = w − lr·v. Returns the penalty
    /// l1·Σ|w| + l2/2·Σw² before the step, over the alive weights.
    /// </summary>
    public double GradientStep(float* xt, int stride, float* dzt, float l1, float l2, float lr, float mu)
    {
        double penalty = 0;
        var vl1 = Vector256.Create(l1); var vl2 = Vector256.Create(l2); var vmu = Vector256.Create(mu);
        var negLr = Vector256.Create(-lr);
        var absMask = Vector256.Create(0x7FFFFFFF).AsSingle();
        var signBit = Vector256.Create(unchecked((int)0x80000000)).AsSingle();
        int tiles = Tiles(stride);
        fixed (int* tileStart = _tileStart, input = _input)
        fixed (float* w = _w, v = _v, g = _g)
        {
            // The gradients, tile of inputs by tile (each tile's rows of xt stay in the core's L1 cache).
            for (int tile = 0; tile < tiles; tile++)
                for (int u = 0; u < Units; u++)
                {
                    int q0 = tileStart[u * (tiles + 1) + tile], q1 = tileStart[u * (tiles + 1) + tile + 1];
                    if (q0 == q1) continue;
                    float* d = dzt + (long)u * stride;
                    int q = q0;
                    if (stride == Block)
                        for (; q + Lanes <= q1; q += Lanes) Dots8(d, xt, input + q).Store(g + q);
                    Dots(d, stride, xt, input, q, q1, g + q);
                }
            // The step, unit by unit over its compact entries.
            for (int u = 0; u < Units; u++)
            {
                int q0 = _start[u], q1 = _start[u + 1];
                if (q0 == q1) continue;
                if (u >= _vecEnd)
                {
                    // The dense kernel's scalar tail (units past the last full vector): unfused.
                    for (int q = q0; q < q1; q++)
                    {
                        float wi = w[q];
                        penalty += l1 * (double)MathF.Abs(wi) + 0.5 * l2 * (double)wi * wi;
                        float gi = g[q];
                        gi += l1 * Sign(wi) + l2 * wi;
                        float vi = mu * v[q] + gi;
                        v[q] = vi;
                        w[q] = wi - lr * vi;
                    }
                    continue;
                }
                // Fused, as the dense kernel's vector lanes: eight entries at a time, then one at a time.
                var sumAbs = Vector256<float>.Zero;
                var sumSq = Vector256<float>.Zero;
                int e = q0;
                for (; e + Lanes <= q1; e += Lanes)
                {
                    var wi = Vector256.Load(w + e);
                    var sign = Vector256.ConditionalSelect(
                        Vector256.Equals(wi, Vector256<float>.Zero), Vector256<float>.Zero, (wi & signBit) | Vector256<float>.One);
                    sumAbs += wi & absMask;
                    sumSq = Vector256.FusedMultiplyAdd(wi, wi, sumSq);
                    var gi = Vector256.FusedMultiplyAdd(vl1, sign, Vector256.FusedMultiplyAdd(vl2, wi, Vector256.Load(g + e)));
                    var vi = Vector256.FusedMultiplyAdd(vmu, Vector256.Load(v + e), gi);
                    vi.Store(v + e);
                    Vector256.FusedMultiplyAdd(negLr, vi, wi).Store(w + e);
                }
                penalty += l1 * (double)Vector256.Sum(sumAbs) + 0.5 * l2 * (double)Vector256.Sum(sumSq);
                for (; e < q1; e++)
                {
                    float wi = w[e];
                    penalty += l1 * (double)MathF.Abs(wi) + 0.5 * l2 * (double)wi * wi;
                    float sign = wi == 0 ? 0 : (BitConverter.SingleToInt32Bits(wi) < 0 ? -1 : 1);
                    float gi = MathF.FusedMultiplyAdd(l1, sign, MathF.FusedMultiplyAdd(l2, wi, g[e]));
                    float vi = MathF.FusedMultiplyAdd(mu, v[e], gi);
                    v[e] = vi;
                    w[e] = MathF.FusedMultiplyAdd(-lr, vi, wi);
                }
            }
        }
        return penalty;
    }

    /// <summary>The eight entries' gradients Σ_s d[s] · xt[input[i], s] (one block of samples), reduced in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dots8(float* d, float* xt, int* input)
    {
        Vector256<float> d0 = Vector256.Load(d), d1 = Vector256.Load(d + 8), d2 = Vector256.Load(d + 16),
            d3 = Vector256.Load(d + 24), d4 = Vector256.Load(d + 32), d5 = Vector256.Load(d + 40),
            d6 = Vector256.Load(d + 48), d7 = Vector256.Load(d + 56);
        Vector256<float> Dot(float* x)
        {
            var s0 = Vector256.Multiply(d0, Vector256.Load(x));
            var s1 = Vector256.Multiply(d1, Vector256.Load(x + 8));
            s0 = Vector256.FusedMultiplyAdd(d2, Vector256.Load(x + 16), s0);
            s1 = Vector256.FusedMultiplyAdd(d3, Vector256.Load(x + 24), s1);
            s0 = Vector256.FusedMultiplyAdd(d4, Vector256.Load(x + 32), s0);
            s1 = Vector256.FusedMultiplyAdd(d5, Vector256.Load(x + 40), s1);
            s0 = Vector256.FusedMultiplyAdd(d6, Vector256.Load(x + 48), s0);
            s1 = Vector256.FusedMultiplyAdd(d7, Vector256.Load(x + 56), s1);
            return s0 + s1;
        }
        var h01 = Avx.HorizontalAdd(Dot(xt + (long)input[0] * Block), Dot(xt + (long)input[1] * Block));
        var h23 = Avx.HorizontalAdd(Dot(xt + (long)input[2] * Block), Dot(xt + (long)input[3] * Block));
        var h45 = Avx.HorizontalAdd(Dot(xt + (long)input[4] * Block), Dot(xt + (long)input[5] * Block));
        var h67 = Avx.HorizontalAdd(Dot(xt + (long)input[6] * Block), Dot(xt + (long)input[7] * Block));
        var h0123 = Avx.HorizontalAdd(h01, h23);   // per 128-bit half: [Σ0, Σ1, Σ2, Σ3] of that half
        var h4567 = Avx.HorizontalAdd(h45, h67);
        return Avx.Permute2x128(h0123, h4567, 0x20) + Avx.Permute2x128(h0123, h4567, 0x31);
    }

    /// <summary>
    /// g[q − q0] = Σ_s d[s] · xt[input[q], s] for one unit's entries q0..q1 (d: the unit's row of dzt), one at a time: the
    /// entries <see cref="Dots8"/> does not take. Two accumulators as there (for one block, the same sums).
    /// </summary>
    private static void Dots(float* d, int stride, float* xt, int* input, int q0, int q1, float* g)
    {
        for (int q = q0; q < q1; q++)
        {
            float* x = xt + (long)input[q] * stride;
            Vector256<float> s0 = default, s1 = default;
            for (int i = 0; i < stride; i += 2 * Lanes)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(d + i), Vector256.Load(x + i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(d + i + Lanes), Vector256.Load(x + i + Lanes), s1);
            }
            g[q - q0] = Vector256.Sum(s0 + s1);
        }
    }

    /// <summary>dzt[u, s] = dz[s, u] for s &lt; count (dz row-major [count, units], dzt [units, stride]); zero past count.</summary>
    public static void Transpose(float* dz, int count, int units, float* dzt, int stride)
    {
        for (int u = 0; u < units; u++)
        {
            float* row = dzt + (long)u * stride;
            for (int s = 0; s < count; s++) row[s] = dz[(long)s * units + u];
            for (int s = count; s < stride; s++) row[s] = 0;
        }
    }

    /// <summary>
    /// The ReLU's gradient unit-major: dt[u, s] = 0 where at[u, s] ≤ 0, and gBias[u] = Σ_s dt[u, s] (both [units, stride],
    /// zero past the samples).
    /// </summary>
    public static void ReluGradient(float* dt, float* at, int units, int stride, float* gbias)
    {
        for (int u = 0; u < units; u++)
        {
            float* d = dt + (long)u * stride, a = at + (long)u * stride;
            var sum = Vector256<float>.Zero;
            for (int s = 0; s < stride; s += Lanes)
            {
                var kept = Vector256.ConditionalSelect(
                    Vector256.GreaterThan(Vector256.Load(a + s), Vector256<float>.Zero), Vector256.Load(d + s), Vector256<float>.Zero);
                kept.Store(d + s);
                sum += kept;
            }
            gbias[u] = Vector256.Sum(sum);
        }
    }

    /// <summary>dz[s, u] = dzt[u, s] for s &lt; count: <see cref="Transpose"/> back.</summary>
    public static void TransposeBack(float* dzt, int stride, int count, int units, float* dz)
    {
        for (int u = 0; u < units; u++)
        {
            float* row = dzt + (long)u * stride;
            for (int s = 0; s < count; s++) dz[(long)s * units + u] = row[s];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sign(float x) => x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : float.NaN;
}

/// <summary>
/// The inputs of a block of samples stored input-major ([inputs, stride], zero where a sample has no such pixel): what
/// <see cref="AliveLayer.Forward(float*, int, int, float*, float*)"/> reads for the first layer. Filled from a batch's CSC
/// (training) or a dataset's CSR rows (evaluation); only the rows written last time are cleared. It also lends scratch
/// buffers of the same stride (<see cref="Buffer"/>).
/// </summary>
internal sealed unsafe class InputBlock : IDisposable
{
    public readonly int Inputs, Stride;
    public readonly float* X;
    private readonly byte* _present;
    private readonly List<int> _written = [];

    public InputBlock(int inputs, int samples)
    {
        Inputs = inputs;
        Stride = (samples + AliveLayer.Block - 1) / AliveLayer.Block * AliveLayer.Block;
        X = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)((long)inputs * Stride * 4), 64);
        new Span<float>(X, inputs * Stride).Clear();
        _present = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)inputs);
    }

    private void Clear()
    {
        foreach (int j in _written)
        {
            new Span<float>(X + (long)j * Stride, Stride).Clear();
            _present[j] = 0;
        }
        _written.Clear();
    }

    /// <summary>A batch by input (CSC: per input, its samples and values).</summary>
    public void Fill(SparseBatch batch)
    {
        Clear();
        for (int j = 0; j < batch.Columns; j++)
        {
            int p0 = batch.ColStart[j], p1 = batch.ColStart[j + 1];
            if (p0 == p1) continue;
            float* row = X + (long)j * Stride;
            for (int p = p0; p < p1; p++) row[batch.ColRow[p]] = batch.ColValue[p];
            _present[j] = 1;
            _written.Add(j);
        }
    }

    /// <summary>Rows [first, first + count) of a dataset's CSR rows.</summary>
    public void Fill(SparseRows rows, int first, int count)
    {
        Clear();
        for (int s = 0; s < count; s++)
            for (int p = rows.Start[first + s]; p < rows.Start[first + s + 1]; p++)
            {
                int j = rows.Column[p];
                if (_present[j] == 0) { _present[j] = 1; _written.Add(j); }
                X[(long)j * Stride + s] = rows.Value[p];
            }
    }

    private readonly float*[] _buffers = new float*[4];
    private readonly int[] _bufferRows = new int[4];

    /// <summary>Scratch buffer <paramref name="slot"/> (0–3) of [rows, stride] floats, for activations or gradients stored
    /// unit-major (made once per size).</summary>
    public float* Buffer(int slot, int rows)
    {
        if (_bufferRows[slot] != rows)
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(_buffers[slot]);
            _buffers[slot] = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)((long)rows * Stride * 4), 64);
            _bufferRows[slot] = rows;
        }
        return _buffers[slot];
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers) System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(X);
        System.Runtime.InteropServices.NativeMemory.Free(_present);
    }
}
