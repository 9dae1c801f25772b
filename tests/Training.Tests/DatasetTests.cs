using static TorchSharp.torch;
using Sweep.Core.Data;
using Sweep.Core.Models;
using Sweep.Core;
using System.Buffers.Binary;
using System.IO.Compression;
using Sweep.Training.Data;
using Xunit;

namespace Sweep.Training.Tests;

public sealed class DatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (!gzip) { File.WriteAllBytes(path, bytes); return path; }
        using var file = File.Create(path);
        using var z = new GZipStream(file, CompressionLevel.Fastest);
        z.Write(bytes);
        return path;
    }

    private static byte[] Idx(int magic, int[] dims, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_raw_and_gzipped_idx_files(bool gzip)
    {
        var pixels = Enumerable.Range(0, 5 * 2 * 3).Select(i => (byte)i).ToArray();
        string images = Write("img", Idx(2051, [5, 2, 3], pixels), gzip);
        string labels = Write("lbl", Idx(2049, [5], [3, 1, 4, 1, 5]), gzip);
        var data = Dataset.Read("tiny", images, labels);
        Assert.Equal((5, 2, 3), (data.Count, data.Rows, data.Columns));
        Assert.Equal(4, data.TrainIndices.Length);
        Assert.Single(data.TestIndices);
        Assert.Equal(pixels, IdxReader.ReadImages(images).Pixels);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        string missing = Path.Combine(_dir, "nope.gz");
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(missing));
        Assert.Equal($"{missing}: file not found", e.Message);
    }

    [Fact]
    public void A_wrong_magic_number_is_reported()
    {
        string labelsAsImages = Write("lbl", Idx(2049, [2], [1, 2]));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(labelsAsImages));
        Assert.Contains("wrong magic number 2049", e.Message);
        Assert.StartsWith(labelsAsImages, e.Message);
    }

    [Fact]
    public void Truncated_data_is_reported()
    {
        string images = Write("img", Idx(2051, [10, 28, 28], new byte[100]), gzip: true);
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadImages(images));
        Assert.Contains("truncated", e.Message);
        string header = Write("hdr", [0, 0, 8]);
        Assert.Contains("truncated", Assert.Throws<DatasetException>(() => IdxReader.ReadLabels(header)).Message);
        string labels = Write("lbl", Idx(2049, [10], [1, 2, 3]));
        Assert.Contains("truncated", Assert.Throws<DatasetException>(() => IdxReader.ReadLabels(labels)).Message);
    }

    [Fact]
    public void Image_and_label_counts_must_agree()
    {
        string images = Write("img", Idx(2051, [3, 1, 1], [1, 2, 3]));
        string labels = Write("lbl", Idx(2049, [2], [1, 2]));
        var e = Assert.Throws<DatasetException>(() => Dataset.Read("x", images, labels));
        Assert.Contains("2 labels but", e.Message);
        Assert.Contains("3 images", e.Message);
    }

    [Fact]
    public void The_built_in_split_is_deterministic_disjoint_and_80_20()
    {
        var a = Dataset.Load(DatasetRef.Mnist10k);
        var (images, labels) = DatasetRef.Mnist10k.Resolve();
        var b = Dataset.Read("again", images, labels);
        Assert.Equal(10_000, a.Count);
        Assert.Equal(8_000, a.TrainIndices.Length);
        Assert.Equal(2_000, a.TestIndices.Length);
        Assert.Equal(a.TrainIndices, b.TrainIndices);
        Assert.Equal(a.TestIndices, b.TestIndices);
        Assert.Empty(a.TrainIndices.Intersect(a.TestIndices));
        Assert.Equal(Enumerable.Range(0, 10_000), a.TrainIndices.Concat(a.TestIndices).Order());
        // The files are sorted by label: a shuffled test split holds every digit in roughly its share.
        var counts = a.TestIndices.GroupBy(a.LabelOf).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 140, 260));
    }

    [Fact]
    public void SplitMix64_permutation_is_a_fixed_sequence()
    {
        // Pinned so that other implementations (the benchmark's peer) can check they draw the same split.
        Assert.Equal(new[] { 6, 3, 2, 9, 8, 1, 4, 7, 0, 5 }, SplitMix64.Permutation(10, 0));
        Assert.Equal(0xE220A8397B1DCDAFUL, new SplitMix64(0).Next());
    }

    [Fact]
    public void Normalized_inputs_have_zero_mean_and_unit_std_per_channel_when_measured_and_the_given_values_otherwise()
    {
        var measured = Dataset.Load(DatasetRef.Mnist10k with { Normalize = new Normalization { FromData = true } }).On(CPU);
        Assert.Equal(0, measured.TrainX.mean().item<float>(), 3);
        Assert.Equal(1, measured.TrainX.std(unbiased: false).item<float>(), 3);

        var plain = Dataset.Load(DatasetRef.Mnist10k).On(CPU);
        var given = Dataset.Load(DatasetRef.Mnist10k with { Normalize = new Normalization { Mean = [0.1307], Std = [0.3081] } }).On(CPU);
        var expected = plain.TestX.sub(0.1307).div(0.3081);
        Assert.True(given.TestX.sub(expected).abs().max().item<float>() < 1e-5);
    }
}
