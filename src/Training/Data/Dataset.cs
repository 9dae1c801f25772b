using System.Collections.Concurrent;
using Sweep.Core;
using Sweep.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Data;

/// <summary>Where a dataset's files are.</summary>
public static class DatasetFiles
{
    /// <summary>Resolves the two IDX paths of a dataset (the built-in one lives in the repository's data/ folder).</summary>
    public static (string Images, string Labels) Resolve(this DatasetRef source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Name is null) return (source.Images!, source.Labels!);
        if (source.Name != DatasetRef.Mnist10k.Name)
            throw new DatasetException(source.Name, $"unknown built-in dataset (known: {DatasetRef.Mnist10k.Name})");
        string dir = DataDirectory.Find(source.Name);
        return (System.IO.Path.Combine(dir, "mnist10k-images-idx3-ubyte.gz"), System.IO.Path.Combine(dir, "mnist10k-labels-idx1-ubyte.gz"));
    }
}

/// <summary>Finds the shipped data/ folder: SWEEP_DATA, next to the binaries, or above them in the repository.</summary>
public static class DataDirectory
{
    public static string Find(string name)
    {
        var env = Environment.GetEnvironmentVariable("SWEEP_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(System.IO.Path.Combine(env, name))) return System.IO.Path.Combine(env, name);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "data", name);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DatasetException(name,
            "the built-in dataset folder data/" + name + " was not found (set SWEEP_DATA to the folder that holds it)");
    }
}

/// <summary>
/// A dataset split 80/20 by a fixed permutation (SplitMix64, seed 0), pixels scaled to [0, 1].
/// Tensors are made once per process and device and shared read-only by every trial.
/// </summary>
public sealed class Dataset
{
    public const ulong SplitSeed = 0;
    public const double TrainFraction = 0.8;

    private static readonly ConcurrentDictionary<string, Lazy<Dataset>> Cache = new();
    private readonly ConcurrentDictionary<string, Lazy<DeviceTensors>> _onDevice = new();
    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    public string Name { get; }
    public int Count { get; }
    public int Rows { get; }
    public int Columns { get; }
    public int[] TrainIndices { get; }
    public int[] TestIndices { get; }
    public int Features => Rows * Columns;

    private Dataset(string name, byte[] pixels, byte[] labels, int count, int rows, int cols)
    {
        Name = name; _pixels = pixels; _labels = labels; Count = count; Rows = rows; Columns = cols;
        var perm = SplitMix64.Permutation(count, SplitSeed);
        int train = (int)Math.Floor(count * TrainFraction);
        TrainIndices = perm[..train];
        TestIndices = perm[train..];
    }

    /// <summary>Loads (once per process) and validates a dataset.</summary>
    public static Dataset Load(DatasetRef source)
    {
        var (images, labels) = source.Resolve();
        string key = System.IO.Path.GetFullPath(images) + "|" + System.IO.Path.GetFullPath(labels);
        var lazy = Cache.GetOrAdd(key, _ => new Lazy<Dataset>(() => Read(source.ToString(), images, labels)));
        try { return lazy.Value; }
        catch { Cache.TryRemove(key, out _); throw; }
    }

    public static Dataset Read(string name, string imagesPath, string labelsPath)
    {
        var (pixels, count, rows, cols) = IdxReader.ReadImages(imagesPath);
        var labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != count)
            throw new DatasetException(labelsPath, $"{labels.Length} labels but {imagesPath} has {count} images");
        if (count < 2) throw new DatasetException(imagesPath, $"{count} images is too few to split into train and test");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] > 9) throw new DatasetException(labelsPath, $"label {labels[i]} at index {i} is outside 0–9");
        return new Dataset(name, pixels, labels, count, rows, cols);
    }

    public byte LabelOf(int index) => _labels[index];

    /// <summary>The split's tensors on a device: train/test images [N, rows·cols] float32 and labels int64.</summary>
    public DeviceTensors On(Device device)
    {
        var lazy = _onDevice.GetOrAdd(device.ToString(), _ => new Lazy<DeviceTensors>(() => MakeTensors(device)));
        return lazy.Value;
    }

    private DeviceTensors MakeTensors(Device device)
    {
        (Tensor X, Tensor Y) Part(int[] indices)
        {
            int f = Features;
            var x = new float[(long)indices.Length * f];
            var y = new long[indices.Length];
            for (int r = 0; r < indices.Length; r++)
            {
                int src = indices[r];
                var row = _pixels.AsSpan(src * f, f);
                var dst = x.AsSpan(r * f, f);
                for (int c = 0; c < f; c++) dst[c] = row[c] / 255f;
                y[r] = _labels[src];
            }
            var xt = torch.tensor(x, new long[] { indices.Length, f }).to(device);
            var yt = torch.tensor(y).to(device);
            xt.DetachFromDisposeScope(); yt.DetachFromDisposeScope();
            return (xt, yt);
        }
        using var scope = torch.NewDisposeScope();
        var (trX, trY) = Part(TrainIndices);
        var (teX, teY) = Part(TestIndices);
        return new DeviceTensors(trX, trY, teX, teY);
    }
}

/// <summary>A split on one device. Shared by trials: never modified in place.</summary>
public sealed record DeviceTensors(Tensor TrainX, Tensor TrainY, Tensor TestX, Tensor TestY);
