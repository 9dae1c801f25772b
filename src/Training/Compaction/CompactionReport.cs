using Sweep.Core.Data;
using Sweep.Core.Models;
using System.Diagnostics;
using Sweep.Training.Data;
using Sweep.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Compaction;

/// <summary>
/// Inference latency of one network on the CPU: the median over single images at batch 1, and the median pass over the whole test
/// split.
/// </summary>
public sealed record Latency(double Batch1Milliseconds, double FullBatchMilliseconds);

/// <summary>Two networks run on the same labelled images: accuracy of each, the largest |logit difference|, and latency.</summary>
public sealed record InferenceComparison(int Images, double AccuracyBefore, double AccuracyAfter, double MaxLogitDifference,
    Latency LatencyBefore, Latency LatencyAfter)
{
    /// <summary>
    /// Runs both networks on <paramref name="x"/> (one image per row) and compares them. Latency: after a warm-up,
    /// every image is timed alone through each network (alternating which goes first) and the median is taken; then
    /// <paramref name="passes"/> passes over all images at once per network, alternating, and their median.
    /// </summary>
    public static InferenceComparison Measure(
        nn.Module<Tensor, Tensor> before, nn.Module<Tensor, Tensor> after, Tensor x, Tensor y, int passes = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        int n = (int)x.shape[0];
        if (n == 0 || y.shape[0] != n)
            throw new ArgumentException($"need as many labels as images, and at least one: {n} images, {y.shape[0]} labels");
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        before.eval();
        after.eval();

        var logitsBefore = before.forward(x);
        var logitsAfter = after.forward(x);
        double accuracyBefore = logitsBefore.argmax(1).eq(y).sum().item<long>() / (double)n;
        double accuracyAfter = logitsAfter.argmax(1).eq(y).sum().item<long>() / (double)n;
        double maxDifference = logitsBefore.sub(logitsAfter).abs().max().item<float>();

        var images = Enumerable.Range(0, n).Select(i => x.narrow(0, i, 1)).ToArray();
        for (int i = 0; i < Math.Min(n, 100); i++) { Time(before, images[i]); Time(after, images[i]); }
        var singleBefore = new double[n];
        var singleAfter = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (i % 2 == 0) { singleBefore[i] = Time(before, images[i]); singleAfter[i] = Time(after, images[i]); }
            else { singleAfter[i] = Time(after, images[i]); singleBefore[i] = Time(before, images[i]); }
        }
        Time(before, x);
        Time(after, x);
        var fullBefore = new double[passes];
        var fullAfter = new double[passes];
        for (int p = 0; p < passes; p++)
        {
            if (p % 2 == 0) { fullBefore[p] = Time(before, x); fullAfter[p] = Time(after, x); }
            else { fullAfter[p] = Time(after, x); fullBefore[p] = Time(before, x); }
        }
        return new InferenceComparison(n, accuracyBefore, accuracyAfter, maxDifference,
            new Latency(Median(singleBefore), Median(fullBefore)), new Latency(Median(singleAfter), Median(fullAfter)));
    }

    private static double Time(nn.Module<Tensor, Tensor> network, Tensor input)
    {
        long start = Stopwatch.GetTimestamp();
        using (network.forward(input)) { }
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}

/// <summary>
/// What compacting one saved model did: layer sizes, parameters, accuracy, output agreement and latency, before and after.
/// </summary>
public sealed record CompactionReport
{
    public string Model { get; init; } = "";
    /// <summary>The model file compacted, and the file the compacted model was saved to.</summary>
    public string Source { get; init; } = "";
    public string Output { get; init; } = "";
    /// <summary>The dataset whose test split both networks were evaluated on.</summary>
    public string Dataset { get; init; } = "";
    public IReadOnlyList<long> WidthsBefore { get; init; } = [];
    public IReadOnlyList<long> WidthsAfter { get; init; } = [];
    public IReadOnlyList<LayerCompaction> Layers { get; init; } = [];
    public ParameterCount ParametersBefore { get; init; } = new(0, 0, 0);
    public ParameterCount ParametersAfter { get; init; } = new(0, 0, 0);
    public int TestImages { get; init; }
    public double AccuracyBefore { get; init; }
    public double AccuracyAfter { get; init; }
    /// <summary>The largest |logit of the original − logit of the compacted network| over the test split.</summary>
    public double MaxLogitDifference { get; init; }
    public Latency LatencyBefore { get; init; } = new(0, 0);
    public Latency LatencyAfter { get; init; } = new(0, 0);
    /// <summary>libtorch's intra-op threads during the timing.</summary>
    public int Threads { get; init; }

    /// <summary>Where a compacted model goes by default: MODEL.compact.pt next to MODEL.pt.</summary>
    public static string DefaultOutputPath(string modelPath)
    {
        string full = Path.GetFullPath(modelPath);
        return Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + ".compact.pt");
    }

    /// <summary>
    /// Loads a saved model (<see cref="ModelFile"/>), compacts it (<see cref="NodeCompaction"/>), saves the compacted model to
    /// <paramref name="outputPath"/> (with its description: compacted, from which file, the trial's settings), and compares
    /// both networks on the test split of the trial's dataset (mnist10k when the description names none). Runs on the CPU.
    /// </summary>
    /// <exception cref="ModelFileException">The model file or its description is missing or unreadable.</exception>
    /// <exception cref="DatasetException">The trial's dataset cannot be found or read.</exception>
    public static CompactionReport CompactFile(string modelPath, string? outputPath = null, int passes = 10)
    {
        outputPath ??= DefaultOutputPath(modelPath);
        using var saved = ModelFile.Load(modelPath);
        string output = Path.GetFullPath(outputPath);
        if (output == saved.Path) throw new ArgumentException($"{output}: the compacted model would overwrite the model it comes from");
        var source = saved.Description.Settings?.Dataset ?? DatasetRef.Mnist10k;
        var data = Data.Dataset.Load(source).On(CPU);
        using var compaction = NodeCompaction.Compact(saved.Network);
        ModelFile.Save(compaction.Network, saved.Description with { Compacted = true, CompactedFrom = saved.Path }, output);
        var comparison = InferenceComparison.Measure(saved.Network, compaction.Network, data.TestX, data.TestY, passes);
        return new CompactionReport
        {
            Model = saved.Description.Model,
            Source = saved.Path,
            Output = output,
            Dataset = source.ToString(),
            WidthsBefore = compaction.ShapeBefore.Widths,
            WidthsAfter = compaction.ShapeAfter.Widths,
            Layers = compaction.Layers,
            ParametersBefore = compaction.Before,
            ParametersAfter = compaction.After,
            TestImages = comparison.Images,
            AccuracyBefore = comparison.AccuracyBefore,
            AccuracyAfter = comparison.AccuracyAfter,
            MaxLogitDifference = comparison.MaxLogitDifference,
            LatencyBefore = comparison.LatencyBefore,
            LatencyAfter = comparison.LatencyAfter,
            Threads = torch.get_num_threads(),
        };
    }
}
