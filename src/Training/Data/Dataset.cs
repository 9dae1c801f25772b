using System.Collections.Concurrent;
using Sweep.Core;
using Sweep.Core.Data;
using Sweep.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Data;

/// <summary>Where a dataset's files are.</summary>
public static class DatasetFiles
{
    /// <summary>The two files of a pair dataset or the built-in one (the repository's data/ folder).</summary>
    public static (string Images, string Labels) Resolve(this DatasetRef source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Name is { } name ? DatasetReader.BuiltIn(name) : (source.Images!, source.Labels!);
    }
}

/// <summary>
/// A dataset's train and test tensors: the dataset's own test set where it has one (CIFAR, a spec's "test"), else the
/// images split 80/20 by a fixed permutation (SplitMix64, seed 0). Bytes are scaled to [0, 1], floats used as they are;
/// every sample is one row of C·H·W values, channel-major. Tensors are made once per process and device and shared
/// read-only by every trial.
/// </summary>
public sealed class Dataset
{
    public const ulong SplitSeed = 0;
    public const double TrainFraction = 0.8;

    private static readonly ConcurrentDictionary<string, Lazy<Dataset>> Cache = new();
    private readonly ConcurrentDictionary<string, Lazy<DeviceTensors>> _onDevice = new();
    private readonly ImageData _train;
    private readonly ImageData _test;

    public string Name { get; }
    /// <summary>Samples in all: the split set's, or the train and test sets' together.</summary>
    public int Count { get; }
    public int Channels => _train.Channels;
    public int Rows => _train.Height;
    public int Columns => _train.Width;
    /// <summary>Values per sample (the input width of a fully connected first layer).</summary>
    public int Features => _train.Features;
    /// <summary>How many classes the labels come from.</summary>
    public int Classes { get; }
    /// <summary>Indices of the train samples (into the split set, or the train set).</summary>
    public int[] TrainIndices { get; }
    /// <summary>Indices of the test samples (into the split set, or the test set).</summary>
    public int[] TestIndices { get; }

    private Dataset(string name, ImageData train, ImageData? test, Normalization? normalize = null)
    {
        Name = name;
        _train = train;
        if (test is null)
        {
            _test = train;
            var perm = SplitMix64.Permutation(train.Count, SplitSeed);
            int count = (int)Math.Floor(train.Count * TrainFraction);
            TrainIndices = perm[..count];
            TestIndices = perm[count..];
            Count = train.Count;
        }
        else
        {
            _test = test;
            TrainIndices = Enumerable.Range(0, train.Count).ToArray();
            TestIndices = Enumerable.Range(0, test.Count).ToArray();
            Count = train.Count + test.Count;
        }
        Classes = Math.Max(train.Classes, _test.Classes);
        if (normalize is not null)
        {
            var (mean, std) = normalize.FromData ? Measure(train, TrainIndices) : (normalize.Mean.ToArray(), normalize.Std.ToArray());
            if (mean.Length != Channels)
                throw new DatasetException(name, $"normalize has {mean.Length} value(s) but the images have {Channels} channel(s)");
            (_mean, _std) = (mean, std);
        }
    }

    private readonly double[]? _mean;
    private readonly double[]? _std;

    /// <summary>The per-channel normalization applied to every input (null: none).</summary>
    public (IReadOnlyList<double> Mean, IReadOnlyList<double> Std)? Normalization => _mean is null ? null : (_mean, _std!);

    /// <summary>Each channel's mean and (population) standard deviation over the given samples, in input units.</summary>
    private static (double[] Mean, double[] Std) Measure(ImageData data, int[] indices)
    {
        int plane = data.Height * data.Width;
        var mean = new double[data.Channels];
        var std = new double[data.Channels];
        for (int c = 0; c < data.Channels; c++)
        {
            double sum = 0, squares = 0;
            foreach (int i in indices)
                for (int p = 0; p < plane; p++)
                {
                    double v = data.Value(i, c * plane + p);
                    sum += v;
                    squares += v * v;
                }
            double n = (double)indices.Length * plane;
            mean[c] = sum / n;
            // A constant channel would divide by zero: it keeps unit scale.
            std[c] = Math.Sqrt(Math.Max(0, squares / n - mean[c] * mean[c])) is var s && s > 1e-12 ? s : 1;
        }
        return (mean, std);
    }

    /// <summary>Loads (once per process) and validates a dataset.</summary>
    public static Dataset Load(DatasetRef source)
    {
        ArgumentNullException.ThrowIfNull(source);
        string key = source is { Name: { } name, Normalize: null, Test: null } ? "builtin:" + name : source.ToString();
        var lazy = Cache.GetOrAdd(key, _ => new Lazy<Dataset>(() =>
        {
            var (train, test) = DatasetReader.Read(source);
            return new Dataset(source.ToString(), train, test, source.Normalize);
        }));
        try { return lazy.Value; }
        catch { Cache.TryRemove(key, out _); throw; }
    }

    /// <summary>A pair of files (IDX or .npy), split 80/20.</summary>
    public static Dataset Read(string name, string imagesPath, string labelsPath)
    {
        var data = DatasetReader.ReadPair(imagesPath, labelsPath);
        if (data.Count < 2) throw new DatasetException(imagesPath, $"{data.Count} images is too few to split into train and test");
        return new Dataset(name, data, null);
    }

    /// <summary>The label of train sample <paramref name="index"/> (of a split set: of any sample).</summary>
    public int LabelOf(int index) => _train.Labels[index];

    /// <summary>The tensors on a device: train/test images [N, C·H·W] float32 and labels int64.</summary>
    public DeviceTensors On(Device device)
    {
        var lazy = _onDevice.GetOrAdd(device.ToString(), _ => new Lazy<DeviceTensors>(() => MakeTensors(device)));
        return lazy.Value;
    }

    private DeviceTensors MakeTensors(Device device)
    {
        (Tensor X, Tensor Y) Part(ImageData data, int[] indices)
        {
            int f = data.Features;
            var x = new float[(long)indices.Length * f];
            var y = new long[indices.Length];
            for (int r = 0; r < indices.Length; r++)
            {
                int src = indices[r];
                var dst = x.AsSpan(r * f, f);
                if (data.Bytes is { } bytes)
                {
                    var row = bytes.AsSpan(src * f, f);
                    for (int c = 0; c < f; c++) dst[c] = row[c] / 255f;
                }
                else data.Floats.AsSpan(src * f, f).CopyTo(dst);
                if (_mean is not null)
                {
                    int plane = f / data.Channels;
                    for (int c = 0; c < data.Channels; c++)
                    {
                        float m = (float)_mean[c], inv = (float)(1 / _std![c]);
                        foreach (ref float v in dst.Slice(c * plane, plane)) v = (v - m) * inv;
                    }
                }
                y[r] = data.Labels[src];
            }
            var xt = torch.tensor(x, new long[] { indices.Length, f }).to(device);
            var yt = torch.tensor(y).to(device);
            xt.DetachFromDisposeScope();
            yt.DetachFromDisposeScope();
            return (xt, yt);
        }
        using var scope = torch.NewDisposeScope();
        var (trX, trY) = Part(_train, TrainIndices);
        var (teX, teY) = Part(_test, TestIndices);
        return new DeviceTensors(trX, trY, teX, teY);
    }
}

/// <summary>A split on one device. Shared by trials: never modified in place.</summary>
public sealed record DeviceTensors(Tensor TrainX, Tensor TrainY, Tensor TestX, Tensor TestY);
