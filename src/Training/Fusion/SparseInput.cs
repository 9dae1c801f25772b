using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Sweep.Training.Fusion;

/// <summary>
/// The nonzero entries of a dataset's inputs, row by row (CSR). MNIST-like images are about 80 % zeros, so the first
/// layer's product and weight gradient over nonzero pixels only do a fifth of the dense arithmetic, with the same result.
/// </summary>
internal sealed class SparseRows
{
    public readonly int Rows, Columns;
    public readonly int[] Start;
    public readonly int[] Column;
    public readonly float[] Value;

    private static readonly ConditionalWeakTable<Tensor, SparseRows> Cache = new();

    private SparseRows(int rows, int columns, int[] start, int[] column, float[] value)
    {
        Rows = rows; Columns = columns; Start = start; Column = column; Value = value;
    }

    /// <summary>The CSR form of a [rows, columns] float tensor (made once per tensor).</summary>
    public static SparseRows Of(Tensor x) => Cache.GetValue(x, Build);

    private static SparseRows Build(Tensor x)
    {
        int rows = (int)x.shape[0], columns = (int)x.shape[1];
        using var cpu = x.cpu().contiguous();
        var dense = cpu.data<float>().ToArray();
        var start = new int[rows + 1];
        var column = new List<int>();
        var value = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                float v = dense[(long)r * columns + c];
                if (v != 0) { column.Add(c); value.Add(v); }
            }
            start[r + 1] = column.Count;
        }
        return new SparseRows(rows, columns, start, column.ToArray(), value.ToArray());
    }
}

/// <summary>
/// One batch of sparse inputs in both orientations: by sample (CSR, for the forward product) and by input (CSC, for the weight
/// gradient).
/// </summary>
internal sealed class SparseBatch
{
    public int Count, Columns;
    public int[] RowStart = [], RowColumn = [], ColStart = [], ColRow = [];
    public float[] RowValue = [], ColValue = [];

    /// <summary>Gathers rows <paramref name="ids"/>[offset .. offset + count) of <paramref name="data"/>.</summary>
    public void Fill(SparseRows data, long[] ids, long offset, int count)
    {
        Count = count;
        Columns = data.Columns;
        if (RowStart.Length < count + 1) RowStart = new int[count + 1];
        if (ColStart.Length < Columns + 1) ColStart = new int[Columns + 1];
        int nnz = 0;
        for (int b = 0; b < count; b++)
        {
            int r = (int)ids[offset + b];
            nnz += data.Start[r + 1] - data.Start[r];
        }
        if (RowColumn.Length < nnz)
        {
            RowColumn = new int[nnz];
            RowValue = new float[nnz];
            ColRow = new int[nnz];
            ColValue = new float[nnz];
        }
        Array.Clear(ColStart, 0, Columns + 1);
        int p = 0;
        for (int b = 0; b < count; b++)
        {
            RowStart[b] = p;
            int r = (int)ids[offset + b];
            for (int q = data.Start[r]; q < data.Start[r + 1]; q++, p++)
            {
                RowColumn[p] = data.Column[q];
                RowValue[p] = data.Value[q];
                ColStart[data.Column[q] + 1]++;
            }
        }
        RowStart[count] = p;
        for (int c = 0; c < Columns; c++) ColStart[c + 1] += ColStart[c];
        Span<int> next = Columns <= 4096 ? stackalloc int[Columns] : new int[Columns];
        ColStart.AsSpan(0, Columns).CopyTo(next);
        for (int b = 0; b < count; b++)
            for (int q = RowStart[b]; q < RowStart[b + 1]; q++)
            {
                int at = next[RowColumn[q]]++;
                ColRow[at] = b;
                ColValue[at] = RowValue[q];
            }
    }
}

/// <summary>The first layer's kernels over sparse inputs, with weights stored input-major ([inputs, units]).</summary>
internal static unsafe class SparseKernels
{
    private const int Lanes = 8;          // Vector256<float>
    private const int Chunk = 8 * Lanes;  // eight accumulators

    /// <summary>z[b, :] = relu(bias + Σ_p value[p] · w[column[p], :]) for the rows of a batch (CSR).</summary>
    public static void Forward(int[] rowStart, int[] column, float[] value, int rows, float* w, float* bias, float* z, int units)
    {
        fixed (int* start = rowStart, col = column)
        fixed (float* val = value)
        {
            // Unit chunks outermost: one chunk's slice of the weights (inputs × 256 bytes) stays in the core's cache
            // while every sample of the batch reads it.
            int full = units / Chunk * Chunk;
            for (int u = 0; u < full; u += Chunk)
            {
                for (int b = 0; b < rows; b++)
                {
                    float* zb = z + (long)b * units;
                    int p0 = start[b], p1 = start[b + 1];
                    Vector256<float> a0 = Vector256.Load(bias + u), a1 = Vector256.Load(bias + u + 8), a2 = Vector256.Load(bias + u + 16),
                        a3 = Vector256.Load(bias + u + 24), a4 = Vector256.Load(bias + u + 32), a5 = Vector256.Load(bias + u + 40),
                        a6 = Vector256.Load(bias + u + 48), a7 = Vector256.Load(bias + u + 56);
                    for (int p = p0; p < p1; p++)
                    {
                        var x = Vector256.Create(val[p]);
                        float* row = w + (long)col[p] * units + u;
                        a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row), a0);
                        a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row + 8), a1);
                        a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row + 16), a2);
                        a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row + 24), a3);
                        a4 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row + 32), a4);
                        a5 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row + 40), a5);
                        a6 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row + 48), a6);
                        a7 = Vector256.FusedMultiplyAdd(x, Vector256.Load(row + 56), a7);
                    }
                    var zero = Vector256<float>.Zero;
                    Vector256.Max(a0, zero).Store(zb + u); Vector256.Max(a1, zero).Store(zb + u + 8);
                    Vector256.Max(a2, zero).Store(zb + u + 16); Vector256.Max(a3, zero).Store(zb + u + 24);
                    Vector256.Max(a4, zero).Store(zb + u + 32); Vector256.Max(a5, zero).Store(zb + u + 40);
                    Vector256.Max(a6, zero).Store(zb + u + 48); Vector256.Max(a7, zero).Store(zb + u + 56);
                }
            }
            for (int b = 0; b < rows; b++)
            {
                float* zb = z + (long)b * units;
                int p0 = start[b], p1 = start[b + 1];
                int u = full;
                for (; u + Lanes <= units; u += Lanes)
                {
                    var a = Vector256.Load(bias + u);
                    for (int p = p0; p < p1; p++)
                        a = Vector256.FusedMultiplyAdd(Vector256.Create(val[p]), Vector256.Load(w + (long)col[p] * units + u), a);
                    Vector256.Max(a, Vector256<float>.Zero).Store(zb + u);
                }
                for (; u < units; u++)
                {
                    float a = bias[u];
                    for (int p = p0; p < p1; p++) a += val[p] * w[(long)col[p] * units + u];
                    zb[u] = MathF.Max(a, 0);
                }
            }
        }
    }

    /// <summary>
    /// For every input j: g = Σ_{(b, x) in column j} x · dz[b, :] + l1·sign(w) + l2·w (the weight gradient row, never
    /// stored), then v = μ·v + g, w = (w − lr·v)·mask. Returns the penalty l1·Σ|w| + l2/2·Σw² before the step.
    /// </summary>
    public static double GradientStep(int[] colStart, int[] colRow, float[] colValue, int inputs, float* dz, int units,
        float* w, float* v, byte* mask, float l1, float l2, float lr, float mu)
    {
        double penalty = 0;
        var c = new StepConstants(l1, l2, lr, mu);
        fixed (int* start = colStart, rowOf = colRow)
        fixed (float* val = colValue)
        {
            var sums = new PenaltySums();
            for (int j = 0; j < inputs; j++)
            {
                int p0 = start[j], p1 = start[j + 1];
                long at = (long)j * units;
                int u = 0;
                for (; u + Chunk <= units; u += Chunk)
                {
                    Vector256<float> g0 = default, g1 = default, g2 = default, g3 = default,
                        g4 = default, g5 = default, g6 = default, g7 = default;
                    for (int p = p0; p < p1; p++)
                    {
                        var x = Vector256.Create(val[p]);
                        float* d = dz + (long)rowOf[p] * units + u;
                        g0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d), g0);
                        g1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d + 8), g1);
                        g2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d + 16), g2);
                        g3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d + 24), g3);
                        g4 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d + 32), g4);
                        g5 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d + 40), g5);
                        g6 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d + 48), g6);
                        g7 = Vector256.FusedMultiplyAdd(x, Vector256.Load(d + 56), g7);
                    }
                    long o = at + u;
                    Apply(g0, w + o, v + o, mask + o, c, ref sums); Apply(g1, w + o + 8, v + o + 8, mask + o + 8, c, ref sums);
                    Apply(g2, w + o + 16, v + o + 16, mask + o + 16, c, ref sums);
                    Apply(g3, w + o + 24, v + o + 24, mask + o + 24, c, ref sums);
                    Apply(g4, w + o + 32, v + o + 32, mask + o + 32, c, ref sums);
                    Apply(g5, w + o + 40, v + o + 40, mask + o + 40, c, ref sums);
                    Apply(g6, w + o + 48, v + o + 48, mask + o + 48, c, ref sums);
                    Apply(g7, w + o + 56, v + o + 56, mask + o + 56, c, ref sums);
                }
                for (; u + Lanes <= units; u += Lanes)
                {
                    Vector256<float> g = default;
                    for (int p = p0; p < p1; p++)
                        g = Vector256.FusedMultiplyAdd(Vector256.Create(val[p]), Vector256.Load(dz + (long)rowOf[p] * units + u), g);
                    Apply(g, w + at + u, v + at + u, mask + at + u, c, ref sums);
                }
                Flush(ref sums, ref penalty, l1, l2);
                for (; u < units; u++)
                {
                    float g = 0;
                    for (int p = p0; p < p1; p++) g += val[p] * dz[(long)rowOf[p] * units + u];
                    long o = at + u;
                    float wi = w[o];
                    penalty += l1 * (double)MathF.Abs(wi) + 0.5 * l2 * (double)wi * wi;
                    g += l1 * Sign(wi) + l2 * wi;
                    float vi = mu * v[o] + g;
                    v[o] = vi;
                    w[o] = mask[o] != 0 ? wi - lr * vi : 0;
                }
            }
        }
        return penalty;
    }

    /// <summary>torch.sign: ±1, 0 for 0, NaN for NaN (MathF.Sign throws on NaN, and a diverging trial has NaNs).</summary>
    private static float Sign(float x) => x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : float.NaN;

    private static void Flush(ref PenaltySums sums, ref double penalty, float l1, float l2)
    {
        penalty += l1 * (double)Vector256.Sum(sums.Abs) + 0.5 * l2 * (double)Vector256.Sum(sums.Square);
        sums = default;
    }

    private readonly struct StepConstants(float l1, float l2, float lr, float mu)
    {
        public readonly Vector256<float> L1 = Vector256.Create(l1), L2 = Vector256.Create(l2),
            NegLr = Vector256.Create(-lr), Mu = Vector256.Create(mu);
    }

    private struct PenaltySums
    {
        public Vector256<float> Abs, Square;
    }

    /// <summary>All-ones lanes where the 8 mask bytes at <paramref name="mask"/> are nonzero (alive entries).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Alive(byte* mask) =>
        ~Vector256.Equals(Avx2.ConvertToVector256Int32(mask), Vector256<int>.Zero).AsSingle();

    private static readonly Vector256<float> AbsMask = Vector256.Create(0x7FFFFFFF).AsSingle();
    private static readonly Vector256<float> SignBit = Vector256.Create(unchecked((int)0x80000000)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply(Vector256<float> g, float* w, float* v, byte* mask, in StepConstants c, ref PenaltySums sums)
    {
        var wi = Vector256.Load(w);
        var sign = Vector256.ConditionalSelect(
            Vector256.Equals(wi, Vector256<float>.Zero), Vector256<float>.Zero, (wi & SignBit) | Vector256<float>.One);
        sums.Abs += wi & AbsMask;
        sums.Square = Vector256.FusedMultiplyAdd(wi, wi, sums.Square);
        g = Vector256.FusedMultiplyAdd(c.L1, sign, Vector256.FusedMultiplyAdd(c.L2, wi, g));
        var vi = Vector256.FusedMultiplyAdd(c.Mu, Vector256.Load(v), g);
        vi.Store(v);
        Vector256.ConditionalSelect(Alive(mask), Vector256.FusedMultiplyAdd(c.NegLr, vi, wi), Vector256<float>.Zero).Store(w);
    }
}
