using System.Diagnostics;
using Sweep.Training;
using Sweep.Training.Data;
using Sweep.Training.Fusion;
using static TorchSharp.torch;

/// <summary>bench/fusion/run --kernels: the first layer's forward and gradient+optimizer kernels, dense and sparse.</summary>
internal static unsafe class KernelBench
{
    private static float* P(float[] pinned) => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref pinned[0]);

    public static void Run(double[] aliveFractions)
    {
        var data = Dataset.Load(new TrialSettings().Dataset).On(CPU);
        var rows = SparseRows.Of(data.TrainX);
        const int inputs = 784, units = 300, batch = 64, steps = 100;
        var rng = new Random(1);
        var ids = Enumerable.Range(0, rows.Rows).Select(i => (long)i).OrderBy(_ => rng.Next()).ToArray();
        var batches = Enumerable.Range(0, steps)
            .Select(s => { var b = new SparseBatch(); b.Fill(rows, ids, s * batch, batch); return b; }).ToArray();
        var w = GC.AllocateArray<float>(inputs * units, pinned: true); var v = GC.AllocateArray<float>(inputs * units, pinned: true);
        var mask = GC.AllocateArray<byte>(inputs * units, pinned: true);
        var bias = GC.AllocateArray<float>(units, pinned: true); var a = GC.AllocateArray<float>(batch * units, pinned: true);
        var dz = GC.AllocateArray<float>(batch * units, pinned: true);
        float* pw = P(w), pv = P(v), pb = P(bias), pa = P(a), pdz = P(dz);
        byte* pm = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref mask[0]);
        foreach (double fraction in aliveFractions)
        {
            for (int i = 0; i < w.Length; i++)
            {
                mask[i] = rng.NextDouble() < fraction ? (byte)1 : (byte)0;
                w[i] = mask[i] != 0 ? (float)(rng.NextDouble() - 0.5) * 0.1f : 0;
                v[i] = 0;
            }
            for (int i = 0; i < dz.Length; i++) dz[i] = rng.NextDouble() < 0.5 ? 0 : (float)(rng.NextDouble() - 0.5) * 1e-3f;
            {
                var alive = new AliveLayer(inputs, units, inputMajor: true);
                alive.Build(pw, pv, pm);
                using var block = new InputBlock(inputs, batch);
                double Time(Action<SparseBatch> f)
                {
                    foreach (var b in batches.Take(10)) f(b);
                    var sw = Stopwatch.StartNew();
                    for (int r = 0; r < 3; r++) foreach (var b in batches) f(b);
                    return sw.Elapsed.TotalMilliseconds / (3 * steps);
                }
                double fill = Time(b => block.Fill(b));
                double denseF = Time(b => SparseKernels.Forward(b.RowStart, b.RowColumn, b.RowValue, b.Count, pw, pb, pa, units));
                double sparseF = Time(b => { block.Fill(b); alive.Forward(block.X, block.Stride, b.Count, pb, pa); });
                double denseG = Time(b => SparseKernels.GradientStep(b.ColStart, b.ColRow, b.ColValue, inputs, pdz, units, pw, pv, pm,
                    1e-4f, 0, 0.05f, 0.9f));
                float* dzt = block.Buffer(0, units);
                double sparseG = Time(b =>
                {
                    block.Fill(b);
                    AliveLayer.Transpose(pdz, b.Count, units, dzt, block.Stride);
                    alive.GradientStep(block.X, block.Stride, dzt, 1e-4f, 0, 0.05f, 0.9f);
                });
                var empty = new SparseBatch();
                empty.Fill(rows, ids, 0, 0);
                double denseU = Time(_ => SparseKernels.GradientStep(empty.ColStart, empty.ColRow, empty.ColValue, inputs, pdz, units,
                    pw, pv, pm, 1e-4f, 0, 0.05f, 0.9f));
                block.Fill(empty);
                double sparseU = Time(_ => alive.GradientStep(block.X, block.Stride, dzt, 1e-4f, 0, 0.05f, 0.9f));
                Console.WriteLine($"alive {fraction,5:F2}: forward dense {denseF:F4} sparse {sparseF:F4} (fill {fill:F4}) ms; " +
                    $"gradient+step dense {denseG:F4} sparse {sparseG:F4} ms; step alone dense {denseU:F4} sparse {sparseU:F4} ms");
            }
        }
    }
}
