using Sweep.Training.Compaction;
using Sweep.Core.Models;
using System.Diagnostics;
using Sweep.Training.Data;
using Sweep.Training.Fusion;
using Sweep.Training.Metrics;
using Sweep.Training.Models;
using Sweep.Training.Pruning;
using Sweep.Training.Regularization;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training;

/// <summary>
/// Where and how a trial runs: the device ("auto", "cpu", "cuda", "cuda:N") and the intra-op thread budget (0 = leave as is);
/// SaveModelPath: where to save the trained model at the end (<see cref="ModelFile"/>).
/// </summary>
public sealed record TrainingOptions(string? Device = null, int Threads = 0, string? SaveModelPath = null);

/// <summary>Trains one trial exactly as docs/algorithm.md defines it, with its model family's trainer.</summary>
public static class TrialRunner
{
    /// <summary>
    /// Runs a trial to the end. <paramref name="onEpoch"/> is called after each epoch on the training thread.
    /// Cancellation is checked between optimizer steps. Same settings, seed and CPU: same result.
    /// </summary>
    public static TrialReport Run(TrialSettings settings, TrainingOptions? options = null,
        Action<EpochRecord>? onEpoch = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        options ??= new TrainingOptions();
        var family = ModelFamilies.Get(settings.Params.Model);
        var outcome = family.Train([new FusedTrial(settings, onEpoch, cancellationToken, options.SaveModelPath)], options)[0];
        if (outcome.Error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(outcome.Error);
        return outcome.Report!;
    }

    /// <summary>Top-1 accuracy on a labelled set.</summary>
    public static double Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        // Batch norm uses its running statistics to evaluate (and batches of 500 keep a VGG's activations small).
        bool training = model.training;
        model.eval();
        try
        {
            long correct = 0;
            for (long start = 0; start < x.shape[0]; start += 500)
            {
                long len = Math.Min(500, x.shape[0] - start);
                using var part = torch.NewDisposeScope();
                correct += model.forward(x.narrow(0, start, len)).argmax(1).eq(y.narrow(0, start, len)).sum().item<long>();
            }
            return (double)correct / y.shape[0];
        }
        finally
        {
            if (training) model.train();
        }
    }
}

/// <summary>
/// The trainer of families that do not fuse: one trial, one network, autograd, SGD with momentum, the regularizer's
/// gradient added to each weight's, permanent masks, pruning events along the schedule (docs/algorithm.md).
/// </summary>
internal static class SingleTrialTrainer
{
    /// <summary>
    /// Trains one trial. Divergence and cancellation end it as an outcome; so does any other error when it is one of a
    /// group (<paramref name="alone"/> false), so that one trial's failure never fails the others. Alone, it is thrown.
    /// </summary>
    public static FusedOutcome Run(FusedTrial trial, TrainingOptions options, bool alone = true)
    {
        try { return new FusedOutcome(Train(trial.Settings, options, trial.OnEpoch, trial.Cancellation, trial.SaveModelPath), null); }
        catch (Exception e) when (e is TrainingDivergedException or OperationCanceledException || !alone)
        {
            return new FusedOutcome(null, e);
        }
    }

    private static TrialReport Train(TrialSettings settings, TrainingOptions options, Action<EpochRecord>? onEpoch,
        CancellationToken cancellationToken, string? saveModelPath)
    {
        var total = Stopwatch.StartNew();
        var device = TrainingDevice.Resolve(options.Device);
        if (options.Threads > 0) torch.set_num_threads(options.Threads);
        var dataset = Dataset.Load(settings.Dataset);
        var data = dataset.On(device);

        using var generator = new Generator((ulong)settings.Params.Seed, torch.CPU);
        using var pruneGenerator = new Generator(TrainingPlan.PruningSeed(settings.Params.Seed), torch.CPU);
        using var augmentGenerator = new Generator(Augmentation.Seed(settings.Params.Seed), torch.CPU);
        var augmentation = settings.Dataset.Augment
            ? new Augmentation(dataset.Channels, dataset.Rows, dataset.Columns, augmentGenerator)
            : null;
        using var model = NetworkShape.For(settings.Params.Model, dataset).Build();
        model.Initialize(generator);
        model.to(device);
        var layers = model.Layers;
        var weights = layers.Select(l => (Tensor)l.Weight).ToArray();
        var masks = weights.Select(w => torch.ones_like(w)).ToArray();
        var regularizer = Regularizer.For(settings.Params);
        var pruner = Pruner.For(settings.Params);
        using var optimizer = torch.optim.SGD(model.parameters(), settings.Params.LearningRate, settings.Params.Momentum);

        var plan = TrainingPlan.For(settings, data.TrainX.shape[0]);
        var (trainX, trainY) = plan.Cut(data.TrainX, data.TrainY);
        long n = plan.Samples;
        int batch = plan.BatchSize;
        long stepsPerEpoch = plan.StepsPerEpoch;
        var schedule = plan.Schedule(settings.Params);

        var epochs = new List<EpochRecord>(settings.Params.Epochs);
        SparsityReport? measured = null;
        long step = 0;
        try
        {
            for (int epoch = 1; epoch <= settings.Params.Epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                double loss;
                using (var epochScope = torch.NewDisposeScope())
                {
                    var perm = torch.randperm(n, generator: generator).to(device);
                    var xs = trainX.index_select(0, perm);
                    var ys = trainY.index_select(0, perm);
                    var lossSum = torch.zeros(1, dtype: ScalarType.Float64, device: device);
                    for (long b = 0; b < stepsPerEpoch; b++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var stepScope = torch.NewDisposeScope();
                        long start = b * batch;
                        long len = Math.Min(batch, n - start);
                        var inputs = xs.narrow(0, start, len);
                        if (augmentation is not null) inputs = augmentation.Apply(inputs.cpu()).to(device);
                        var logits = model.forward(inputs);
                        var ce = nn.functional.cross_entropy(logits, ys.narrow(0, start, len));
                        optimizer.zero_grad();
                        ce.backward();
                        if (regularizer.IsActive)
                        {
                            foreach (var w in weights)
                            {
                                lossSum.add_(regularizer.Penalty(w));
                                regularizer.AddGradient(w, w.grad!);
                            }
                        }
                        optimizer.step();
                        using (torch.no_grad())
                            for (int i = 0; i < weights.Length; i++) weights[i].mul_(masks[i]);
                        lossSum.add_(ce.detach());
                        step++;
                        if (schedule.IsEvent(step))
                        {
                            double sparsity = schedule.TargetSparsity(step);
                            for (int i = 0; i < weights.Length; i++) pruner.PruneToSparsity(weights[i], masks[i], sparsity, pruneGenerator);
                        }
                    }
                    loss = lossSum.item<double>() / stepsPerEpoch;
                }
                if (TrainingPlan.Diverged(epoch, loss) is { } diverged) throw diverged;
                double accuracy = Evaluate(model, data.TestX, data.TestY);
                measured = SparsityReport.Measure(Named(layers));
                var record = new EpochRecord(epoch, loss, accuracy, measured.WeightSparsity, measured.NodeSparsity,
                    clock.Elapsed.TotalSeconds);
                epochs.Add(record);
                onEpoch?.Invoke(record);
            }

            double finalAccuracy = epochs.Count > 0 ? epochs[^1].Accuracy : Evaluate(model, data.TestX, data.TestY);
            var final = measured ?? SparsityReport.Measure(Named(layers));   // the last epoch already measured the final weights
            if (saveModelPath is { } path) ModelFile.Save(model, settings, path);
            return new TrialReport(finalAccuracy, final.WeightSparsity, final.NodeSparsity, final.Layers, epochs,
                total.Elapsed.TotalSeconds, device.ToString());
        }
        finally
        {
            foreach (var m in masks) m.Dispose();
        }
    }

    private static double Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y) => TrialRunner.Evaluate(model, x, y);

    private static (string, Tensor)[] Named(IReadOnlyList<PrunableLayer> layers) =>
        layers.Select(l => (l.Name, (Tensor)l.Weight)).ToArray();
}
