using Sweep.Training.Compaction;
using Sweep.Core;
using Sweep.Core.Models;
using System.Diagnostics;
using Sweep.Training.Data;
using Sweep.Training.Metrics;
using Sweep.Training.Models;
using Sweep.Training.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Fusion;

/// <summary>
/// One trial of a fused group: its settings, where its epochs go, its own cancellation, and where its trained model is saved
/// (null: nowhere).
/// </summary>
public sealed record FusedTrial(TrialSettings Settings, Action<EpochRecord>? OnEpoch = null, CancellationToken Cancellation = default,
    string? SaveModelPath = null);

/// <summary>How one trial of a fused group ended: a report, or the exception that ended it (diverged, cancelled).</summary>
public sealed record FusedOutcome(TrialReport? Report, Exception? Error)
{
    /// <summary>The step from which each of the first two layers trained from its alive structure (−1: never; fused mlp only).</summary>
    internal long[]? SparseFrom { get; init; }
}

/// <summary>
/// Trains K mlp trials that share everything but (regularizer, λ, prune rate, method, temperature) as one batched
/// model over one shared batch (stacked weights, batched products), and every trial keeps its own masks, regularizer
/// and pruning noise.
/// Each trial computes exactly what it computes alone (docs/algorithm.md): the same initialization and batch order
/// (both from the shared seed) and its own pruning generator; only floating-point summation order can differ.
/// </summary>
internal static class FusedMlp
{
    // The one mlp definition (MlpFamily): its layers, their names and initialization come from there.
    private static readonly string[] Names = [.. new MlpFamily().LayerNames(2)];

    public static FusedOutcome[] Run(IReadOnlyList<FusedTrial> trials, TrainingOptions options, bool tensorOps = false,
        SparseTraining? sparse = null)
    {
        var first = trials[0].Settings;
        int k = trials.Count;
        var total = Stopwatch.StartNew();
        var device = TrainingDevice.Resolve(options.Device);
        if (options.Threads > 0) torch.set_num_threads(options.Threads);
        var dataset = Dataset.Load(first.Dataset);
        var data = dataset.On(device);
        var shape = NetworkShape.For(first.Params.Model, dataset);
        var outcomes = new FusedOutcome?[k];
        var epochs = Enumerable.Range(0, k).Select(_ => new List<EpochRecord>(first.Params.Epochs)).ToArray();
        var measured = new SparsityReport?[k];

        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)first.Params.Seed, torch.CPU);
        var pruneGenerators = trials.Select(t => new Generator(TrainingPlan.PruningSeed(t.Settings.Params.Seed), torch.CPU)).ToArray();
        var pruners = trials.Select(t => Pruner.For(t.Settings.Params)).ToArray();

        // The shared initialization, drawn exactly as one unfused trial draws it, then copied K times.
        var (weights, biases) = Initialize(shape, generator, k, device);
        var masks = weights.Select(w => torch.ones_like(w)).ToArray();
        using var state = new StackedState(weights, biases, masks, trials, device, tensorOps, sparse);

        var trainRows = state.UsesSparseInputs ? SparseRows.Of(data.TrainX) : null;
        var sparseBatch = new SparseBatch();
        var plan = TrainingPlan.For(first, data.TrainX.shape[0]);
        var (trainX, trainY) = plan.Cut(data.TrainX, data.TrainY);
        long n = plan.Samples;
        int batch = plan.BatchSize;
        long stepsPerEpoch = plan.StepsPerEpoch;
        var schedules = trials.Select(t => plan.Schedule(t.Settings.Params)).ToArray();
        var schedule = schedules[0];

        long step = 0;
        for (int epoch = 1; epoch <= first.Params.Epochs && outcomes.Any(o => o is null); epoch++)
        {
            var clock = Stopwatch.StartNew();
            var losses = new double[k];
            using (var epochScope = torch.NewDisposeScope())
            {
                var perm = torch.randperm(n, generator: generator).to(device);
                var xs = trainRows is null ? trainX.index_select(0, perm) : null;
                var ys = trainY.index_select(0, perm);
                var ids = trainRows is null ? null : perm.cpu().data<long>().ToArray();
                var labels = trainRows is null ? null : ys.cpu().data<long>().ToArray();
                var ceSum = torch.zeros(new long[] { k }, dtype: ScalarType.Float64, device: device);
                for (long b = 0; b < stepsPerEpoch; b++)
                {
                    for (int t = 0; t < k; t++)
                        if (outcomes[t] is null && trials[t].Cancellation.IsCancellationRequested)
                            outcomes[t] = new FusedOutcome(null, new OperationCanceledException(trials[t].Cancellation));
                    if (outcomes.All(o => o is not null)) break;
                    long start = b * batch;
                    long len = Math.Min(batch, n - start);
                    using (var stepScope = torch.NewDisposeScope())
                    {
                        if (trainRows is null) ceSum.add_(state.Step(xs!.narrow(0, start, len), ys.narrow(0, start, len), losses));
                        else
                        {
                            sparseBatch.Fill(trainRows, ids!, start, (int)len);
                            state.Step(sparseBatch, labels!, start, losses);
                        }
                    }
                    step++;
                    if (schedule.IsEvent(step))
                    {
                        for (int t = 0; t < k; t++)
                        {
                            if (outcomes[t] is not null) continue;
                            double sparsity = schedules[t].TargetSparsity(step);
                            using var pruneScope = torch.NewDisposeScope();
                            state.WriteBack(t);
                            for (int i = 0; i < weights.Length; i++)
                                if (pruners[t].PruneToSparsity(weights[i][t], masks[i][t], sparsity, pruneGenerators[t]) > 0)
                                    state.MaskChanged(i, t);
                            state.Restructure(t, step);
                        }
                    }
                }
                var ce = ceSum.cpu().data<double>().ToArray();
                for (int t = 0; t < k; t++) losses[t] += ce[t];
            }
            for (int t = 0; t < k; t++) state.WriteBack(t);
            var accuracy = state.Evaluate(data.TestX, data.TestY);
            double seconds = clock.Elapsed.TotalSeconds;
            for (int t = 0; t < k; t++)
            {
                if (outcomes[t] is not null) continue;
                double loss = losses[t] / stepsPerEpoch;
                if (TrainingPlan.Diverged(epoch, loss) is { } diverged)
                {
                    outcomes[t] = new FusedOutcome(null, diverged);
                    continue;
                }
                using var measureScope = torch.NewDisposeScope();
                measured[t] = Measure(weights, t, device);
                var record = new EpochRecord(epoch, loss, accuracy[t], measured[t]!.WeightSparsity, measured[t]!.NodeSparsity, seconds);
                epochs[t].Add(record);
                trials[t].OnEpoch?.Invoke(record);
            }
        }

        double[]? finalAccuracy = null;
        for (int t = 0; t < k; t++)
        {
            if (outcomes[t] is not null) continue;
            if (trials[t].Cancellation.IsCancellationRequested)
            {
                outcomes[t] = new FusedOutcome(null, new OperationCanceledException(trials[t].Cancellation));
                continue;
            }
            double accuracy = epochs[t].Count > 0 ? epochs[t][^1].Accuracy
                : (finalAccuracy ??= state.Evaluate(data.TestX, data.TestY))[t];
            using var finalScope = torch.NewDisposeScope();
            var final = measured[t] ?? Measure(weights, t, device);
            if (trials[t].SaveModelPath is { } path)
            {
                try { Save(weights, biases, t, shape, trials[t].Settings, path); }
                catch (Exception e) { outcomes[t] = new FusedOutcome(null, e); continue; }
            }
            outcomes[t] = new FusedOutcome(new TrialReport(accuracy, final.WeightSparsity, final.NodeSparsity, final.Layers,
                epochs[t], total.Elapsed.TotalSeconds, device.ToString()), null) { SparseFrom = state.SparseFrom(t) };
        }
        foreach (var g in pruneGenerators) g.Dispose();
        return outcomes.Select(o => o!).ToArray();
    }

    /// <summary>
    /// The shared initialization: the mlp's own (<see cref="PrunableNetwork.Initialize"/> from the trial's generator, as an
    /// unfused trial draws it), copied K times.
    /// </summary>
    private static (Tensor[] Weights, Tensor[] Biases) Initialize(NetworkShape shape, Generator generator, int k, Device device)
    {
        using var mlp = shape.Build();
        mlp.Initialize(generator);
        var layers = mlp.Layers;
        var weights = new Tensor[layers.Count];
        var biases = new Tensor[layers.Count];
        using var _ = torch.no_grad();
        for (int i = 0; i < layers.Count; i++)
        {
            // The first layer is stored input-major ([inputs, units]): its rows are what a sparse input selects.
            Tensor w = i == 0 ? layers[i].Weight.t() : layers[i].Weight;
            Tensor b = layers[i].Bias!;
            // Fresh tensors: the network's parameters go when it is disposed.
            weights[i] = torch.empty([k, .. w.shape], dtype: w.dtype).copy_(w.unsqueeze(0)).to(device);
            biases[i] = torch.empty([k, .. b.shape], dtype: b.dtype).copy_(b.unsqueeze(0)).to(device);
        }
        return (weights, biases);
    }

    /// <summary>
    /// Saves trial t as an ordinary <see cref="MlpNetwork"/> (<see cref="ModelFile"/>): the first layer transposed back to [out, in].
    /// </summary>
    private static void Save(Tensor[] weights, Tensor[] biases, int t, NetworkShape shape, TrialSettings settings, string path)
    {
        using var scope = torch.NewDisposeScope();
        using var mlp = shape.Build();
        using (torch.no_grad())
        {
            var layers = mlp.Layers;
            for (int i = 0; i < layers.Count; i++)
            {
                layers[i].Weight.copy_((i == 0 ? weights[i][t].t() : weights[i][t]).cpu());
                layers[i].Bias!.copy_(biases[i][t].cpu());
            }
        }
        ModelFile.Save(mlp, settings, path);
    }

    /// <summary>Trial t's sparsity: read in place on the CPU, through <see cref="SparsityReport.Measure"/> elsewhere.</summary>
    private static unsafe SparsityReport Measure(Tensor[] weights, int t, Device device)
    {
        if (device.type != DeviceType.CPU) return SparsityReport.Measure(Layers(weights, t));
        var layers = new (string, IntPtr, int, int, bool)[weights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            var w = weights[i];
            long per = w.numel() / w.shape[0];
            var data = (IntPtr)((float*)StackedState.DataPointer(w) + t * per);
            layers[i] = i == 0
                ? (Names[i], data, (int)w.shape[2], (int)w.shape[1], true)
                : (Names[i], data, (int)w.shape[1], (int)w.shape[2], false);
        }
        return FusedSparsity.Measure(layers);
    }

    /// <summary>Trial t's layers as [out, in] weights (the first layer's storage is transposed back, as a view).</summary>
    private static (string, Tensor)[] Layers(Tensor[] weights, int t) =>
        weights.Select((w, i) => (Names[i], i == 0 ? w[t].t() : w[t])).ToArray();
}

