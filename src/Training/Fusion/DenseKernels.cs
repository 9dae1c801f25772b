using System.Runtime.Intrinsics;

namespace Sweep.Training.Fusion;

/// <summary>
/// The small parts of one trial's step on the CPU, in one pass each instead of a dozen tensor operations: bias and
/// ReLU, the 10-unit output layer with its softmax cross-entropy, and the ReLU gradients with the bias gradients.
/// </summary>
internal static unsafe class DenseKernels
{
    /// <summary>a[b, :] = relu(a[b, :] + bias) for rows × units.</summary>
    public static void BiasRelu(float* a, float* bias, int rows, int units)
    {
        for (int b = 0; b < rows; b++)
        {
            float* r = a + (long)b * units;
            int u = 0;
            for (; u + 8 <= units; u += 8)
                Vector256.Max(Vector256.Load(r + u) + Vector256.Load(bias + u), Vector256<float>.Zero).Store(r + u);
            for (; u < units; u++) r[u] = MathF.Max(r[u] + bias[u], 0);
        }
    }

    /// <summary>
    /// The output layer of one trial: z = a·Wᵀ + bias ([rows, outputs] from a [rows, inputs], W [outputs, inputs]), its
    /// mean softmax cross-entropy against <paramref name="labels"/> (returned), dz = (softmax − onehot) / rows, the
    /// layer's gradients gW = dzᵀ·a, gBias = Σ dz, and da = (dz·W) ⊙ [a > 0] (the gradient below the previous ReLU).
    /// </summary>
    public static double Output(float* a, int rows, int inputs, float* w, float* bias, int outputs, long[] labels, long labelOffset,
        float* gw, float* gbias, float* da)
    {
        Span<float> z = stackalloc float[outputs];
        Span<float> dz = stackalloc float[outputs];
        new Span<float>(gw, outputs * inputs).Clear();
        new Span<float>(gbias, outputs).Clear();
        double loss = 0;
        float scale = 1f / rows;
        for (int b = 0; b < rows; b++)
        {
            float* ab = a + (long)b * inputs;
            for (int o = 0; o < outputs; o++) z[o] = bias[o] + Dot(ab, w + (long)o * inputs, inputs);
            float max = float.NegativeInfinity;
            for (int o = 0; o < outputs; o++) max = MathF.Max(max, z[o]);
            double sum = 0;
            for (int o = 0; o < outputs; o++) { dz[o] = MathF.Exp(z[o] - max); sum += dz[o]; }
            int y = (int)labels[labelOffset + b];
            loss += Math.Log(sum) + max - z[y];
            float inv = (float)(1 / sum);
            for (int o = 0; o < outputs; o++) dz[o] = (dz[o] * inv - (o == y ? 1 : 0)) * scale;
            // gW += dz ⊗ a; gBias += dz; da = dz · W, masked by the ReLU of a.
            float* dab = da + (long)b * inputs;
            new Span<float>(dab, inputs).Clear();
            for (int o = 0; o < outputs; o++)
            {
                gbias[o] += dz[o];
                Axpy(dz[o], ab, gw + (long)o * inputs, inputs);
                Axpy(dz[o], w + (long)o * inputs, dab, inputs);
            }
            ReluMask(dab, ab, inputs);
        }
        return loss / rows;
    }

    /// <summary>d ⊙= [a > 0] row by row, and gBias = Σ over rows of d (rows × units).</summary>
    public static void ReluGradient(float* d, float* a, int rows, int units, float* gbias)
    {
        new Span<float>(gbias, units).Clear();
        for (int b = 0; b < rows; b++)
        {
            float* db = d + (long)b * units;
            ReluMask(db, a + (long)b * units, units);
            int u = 0;
            for (; u + 8 <= units; u += 8) (Vector256.Load(gbias + u) + Vector256.Load(db + u)).Store(gbias + u);
            for (; u < units; u++) gbias[u] += db[u];
        }
    }

    /// <summary>gBias = Σ over rows of d (rows × units).</summary>
    public static void SumRows(float* d, int rows, int units, float* gbias)
    {
        new Span<float>(gbias, units).Clear();
        for (int b = 0; b < rows; b++)
        {
            float* db = d + (long)b * units;
            int u = 0;
            for (; u + 8 <= units; u += 8) (Vector256.Load(gbias + u) + Vector256.Load(db + u)).Store(gbias + u);
            for (; u < units; u++) gbias[u] += db[u];
        }
    }

    private static void ReluMask(float* d, float* a, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
            Vector256.ConditionalSelect(
                Vector256.GreaterThan(Vector256.Load(a + i), Vector256<float>.Zero), Vector256.Load(d + i), Vector256<float>.Zero)
                .Store(d + i);
        for (; i < n; i++) if (!(a[i] > 0)) d[i] = 0;
    }

    private static float Dot(float* x, float* y, int n)
    {
        var acc = Vector256<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), acc);
        float s = Vector256.Sum(acc);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    private static void Axpy(float alpha, float* x, float* y, int n)
    {
        var va = Vector256.Create(alpha);
        int i = 0;
        for (; i + 8 <= n; i += 8) Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        for (; i < n; i++) y[i] += alpha * x[i];
    }
}

/// <summary>
/// <see cref="Metrics.SparsityReport.Measure"/> for one trial of a fused mlp, straight from the stacked weights (the
/// first layer stored input-major): one pass per layer, no copies. Same definitions, same numbers.
/// </summary>
internal static unsafe class FusedSparsity
{
    /// <summary>
    /// <paramref name="layers"/>: each layer's data pointer for this trial, with its [out, in] shape and whether it is
    /// stored transposed ([in, out], the first layer).
    /// </summary>
    public static Metrics.SparsityReport Measure(IReadOnlyList<(string Name, IntPtr Data, int Out, int In, bool InputMajor)> layers)
    {
        int n = layers.Count;
        var incomingAlive = new bool[n][];   // per layer, per output unit: any nonzero incoming weight
        var outgoingAlive = new bool[n][];   // per layer, per input unit: any nonzero weight leaving it
        var zeros = new long[n];
        for (int i = 0; i < n; i++)
        {
            var (_, data, rows, cols, inputMajor) = layers[i];
            float* w = (float*)data;
            var inAlive = new bool[rows];
            var outAlive = new bool[cols];
            long z = 0;
            if (inputMajor)
            {
                for (int c = 0; c < cols; c++)          // storage row = input c, entries = output units
                    for (int r = 0; r < rows; r++)
                    {
                        if (w[(long)c * rows + r] == 0) z++;
                        else { inAlive[r] = true; outAlive[c] = true; }
                    }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                    {
                        if (w[(long)r * cols + c] == 0) z++;
                        else { inAlive[r] = true; outAlive[c] = true; }
                    }
            }
            incomingAlive[i] = inAlive;
            outgoingAlive[i] = outAlive;
            zeros[i] = z;
        }
        var result = new Sweep.Core.Models.LayerRecord[n];
        long weights = 0, zeroWeights = 0, nodes = 0, dead = 0;
        for (int i = 0; i < n; i++)
        {
            var (name, _, rows, cols, _) = layers[i];
            long units = 0, deadUnits = 0;
            if (i + 1 < n)
            {
                units = rows;
                for (int u = 0; u < rows; u++)
                    if (!(incomingAlive[i][u] && outgoingAlive[i + 1][u])) deadUnits++;
            }
            result[i] = new Sweep.Core.Models.LayerRecord(name, (long)rows * cols, zeros[i], units, deadUnits);
            weights += (long)rows * cols; zeroWeights += zeros[i]; nodes += units; dead += deadUnits;
        }
        return new Metrics.SparsityReport(weights == 0 ? 0 : (double)zeroWeights / weights, nodes == 0 ? 0 : (double)dead / nodes, result);
    }
}
