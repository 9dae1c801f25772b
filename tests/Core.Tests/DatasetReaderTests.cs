using System.Buffers.Binary;
using System.Text;
using Sweep.Core.Data;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>The dataset readers on files the tests write: NumPy .npy, CIFAR-10/100 binary, IDX; and their errors.</summary>
public sealed class DatasetReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A version-1 .npy file: the header dictionary padded to 64 bytes, then the data.</summary>
    internal static byte[] Npy(string descr, long[] shape, byte[] data)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int length = dict.Length + 1;
        int pad = (64 - (10 + length) % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0]);
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(data);
        return [.. bytes];
    }

    internal static byte[] Int64s(params long[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        return bytes;
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Npy_uint8_images_of_one_channel_and_int64_labels_round_trip()
    {
        byte[] pixels = [.. Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 10))];
        string images = Write("x.npy", Npy("|u1", [2, 3, 4], pixels));
        string labels = Write("y.npy", Npy("<i8", [2], Int64s(1, 0)));

        var data = DatasetReader.ReadPair(images, labels);

        Assert.Equal((2, 1, 3, 4), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal(pixels, data.Bytes);
        Assert.Equal([1, 0], data.Labels);
        Assert.Equal(2, data.Classes);
        Assert.Equal(30 / 255f, data.Value(0, 3));
    }

    [Fact]
    public void Npy_float32_channels_last_images_become_channels_first()
    {
        // Two samples of 2×2 pixels × 3 channels, value = 100·sample + 10·pixel + channel.
        var values = new List<float>();
        for (int s = 0; s < 2; s++)
            for (int p = 0; p < 4; p++)
                for (int c = 0; c < 3; c++) values.Add(100 * s + 10 * p + c);
        var bytes = new byte[values.Count * 4];
        for (int i = 0; i < values.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        string images = Write("hwc.npy", Npy("<f4", [2, 2, 2, 3], bytes));
        string labels = Write("hwc-labels.npy", Npy("|u1", [2], [3, 7]));

        var data = DatasetReader.ReadPair(images, labels);

        Assert.Equal((3, 2, 2), (data.Channels, data.Height, data.Width));
        Assert.Null(data.Bytes);
        // Sample 1, channel 2, pixel 3 sits at 1·12 + 2·4 + 3 in CHW order.
        Assert.Equal(100 + 30 + 2, data.Floats![12 + 8 + 3]);
        Assert.Equal(100 * 0 + 10 * 1 + 0, data.Value(0, 1));
        Assert.Equal(8, data.Classes);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("count")]
    [InlineData("shape")]
    [InlineData("type")]
    [InlineData("magic")]
    public void A_bad_npy_file_is_refused_naming_it(string problem)
    {
        string images = Write("img.npy", problem switch
        {
            "truncated" => Npy("|u1", [4, 2, 2], new byte[10]),
            "shape" => Npy("|u1", [4, 5], new byte[20]),
            "type" => Npy("<f8", [1, 2, 2], new byte[32]),
            "magic" => [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            _ => Npy("|u1", [3, 2, 2], new byte[12]),
        });
        string labels = Write("lbl.npy", Npy("|u1", [4], [0, 1, 0, 1]));

        var e = Assert.Throws<DatasetException>(() => DatasetReader.ReadPair(images, labels));

        Assert.Equal(problem == "count" ? labels : images, e.Path);
        Assert.Contains(problem switch
        {
            "truncated" => "truncated",
            "count" => "4 labels but",
            "shape" => "is not images",
            "type" => "'<f8'",
            _ => "IDX",
        }, e.Message);
    }

    private string Cifar(string folder, bool hundred, int perFile, int label = 3)
    {
        string dir = Path.Combine(_dir, folder);
        var (train, test) = CifarReader.Files(dir, hundred);
        int labelBytes = hundred ? 2 : 1;
        foreach (var (file, index) in train.Concat(test).Select((f, i) => (f, i)))
        {
            var bytes = new byte[perFile * (labelBytes + CifarReader.Pixels)];
            for (int r = 0; r < perFile; r++)
            {
                int at = r * (labelBytes + CifarReader.Pixels);
                if (hundred) bytes[at] = 1;                                 // the coarse label, not used
                bytes[at + labelBytes - 1] = (byte)(label + r % 2);
                bytes[at + labelBytes] = (byte)index;                        // the first red pixel says which file
                bytes[at + labelBytes + 1024] = 200;                         // the first green pixel
            }
            Write(Path.GetRelativePath(_dir, file), bytes);
        }
        return dir;
    }

    [Fact]
    public void Cifar10_folders_read_their_five_train_batches_and_their_test_batch()
    {
        string dir = Cifar("c10", hundred: false, perFile: 3);

        var (train, test) = DatasetReader.Read(new DatasetRef { Cifar10 = dir });

        Assert.Equal((15, 3, 32, 32, 10), (train.Count, train.Channels, train.Height, train.Width, train.Classes));
        Assert.Equal(3, test!.Count);
        Assert.Equal([3, 4, 3], test.Labels);
        Assert.Equal(4 / 255f, train.Value(12, 0));                        // sample 12 comes from data_batch_5
        Assert.Equal(200, train.Bytes![1024]);                              // green plane after red
        Assert.Equal(5, test.Bytes![0]);                                    // test_batch is the sixth file written
    }

    [Fact]
    public void Cifar100_uses_the_fine_label()
    {
        string dir = Cifar("c100", hundred: true, perFile: 2, label: 57);

        var (train, test) = DatasetReader.Read(new DatasetRef { Cifar100 = dir });

        Assert.Equal([57, 58], train.Labels);
        Assert.Equal(100, train.Classes);
        Assert.Equal(2, test!.Count);
    }

    [Fact]
    public void A_cifar_file_that_is_not_whole_records_is_refused_naming_it()
    {
        string dir = Cifar("cut", hundred: false, perFile: 2);
        string batch = Path.Combine(dir, "data_batch_3.bin");
        File.WriteAllBytes(batch, File.ReadAllBytes(batch)[..5000]);

        var e = Assert.Throws<DatasetException>(() => DatasetReader.Read(new DatasetRef { Cifar10 = dir }));

        Assert.Equal(batch, e.Path);
        Assert.Contains("3073-byte CIFAR-10 records", e.Message);
    }

    [Fact]
    public void A_fixed_test_set_must_have_the_train_sets_image_shape()
    {
        string images = Write("a.npy", Npy("|u1", [4, 2, 2], new byte[16]));
        string labels = Write("al.npy", Npy("|u1", [4], [0, 1, 0, 1]));
        string testImages = Write("b.npy", Npy("|u1", [2, 3, 3], new byte[18]));
        string testLabels = Write("bl.npy", Npy("|u1", [2], [1, 0]));
        var source = new DatasetRef
        {
            Images = images, Labels = labels, Test = new DatasetRef { Images = testImages, Labels = testLabels },
        };

        var e = Assert.Throws<DatasetException>(() => DatasetReader.Read(source));

        Assert.Equal(testImages, e.Path);
        Assert.Contains("1×3×3 but the train images are 1×2×2", e.Message);
    }

    [Fact]
    public void Specs_name_npy_cifar_and_test_datasets_and_their_bad_fields()
    {
        string images = Write("s/x.npy", Npy("|u1", [4, 2, 2], new byte[16]));
        string labels = Write("s/y.npy", Npy("|u1", [4], [0, 1, 0, 1]));
        string cifar = Cifar("s/c10", hundred: false, perFile: 1);
        string Spec(string dataset) => $$"""{ "name": "d", "dataset": {{dataset}}, "search": { "space": { "lambda": [0.001] } } }""";

        var npy = SpecParser.Parse(Spec("""{ "images": "x.npy", "labels": "y.npy", "test": { "images": "x.npy", "labels": "y.npy" } }"""),
            Path.Combine(_dir, "s"));
        var c10 = SpecParser.Parse(Spec("""{ "cifar10": "c10" }"""), Path.Combine(_dir, "s"));

        var pair = new DatasetRef { Images = images, Labels = labels };
        Assert.Equal(pair with { Test = pair }, npy.Dataset);
        Assert.Equal(new DatasetRef { Cifar10 = cifar }, c10.Dataset);
        Assert.Equal("dataset.cifar10", Assert.Throws<SpecException>(() =>
            SpecParser.Parse(Spec("""{ "cifar10": "nope" }"""), Path.Combine(_dir, "s"))).Field);
        Assert.Equal("dataset.images", Assert.Throws<SpecException>(() =>
            SpecParser.Parse(Spec("""{ "cifar10": "c10", "images": "x.npy" }"""), Path.Combine(_dir, "s"))).Field);
        Assert.Equal("dataset.test.labels", Assert.Throws<SpecException>(() =>
            SpecParser.Parse(Spec("""{ "cifar10": "c10", "test": { "images": "x.npy" } }"""), Path.Combine(_dir, "s"))).Field);
    }

    [Fact]
    public void The_spec_check_refuses_lenet5_on_images_it_cannot_take()
    {
        string images = Write("c/x.npy", Npy("|u1", [4, 3, 8, 8], new byte[4 * 3 * 64]));
        string labels = Write("c/y.npy", Npy("|u1", [4], [0, 1, 0, 1]));
        var spec = SpecParser.Parse("""
            { "name": "c", "dataset": { "images": "x.npy", "labels": "y.npy" }, "search": { "space": { "model": ["mlp", "lenet5"] } } }
            """, Path.Combine(_dir, "c"));

        var e = Assert.Throws<SpecException>(() => SpecData.Check(spec, SearchSpace.Expand(spec)));

        Assert.Equal("model", e.Field);
        Assert.Contains("lenet5 takes 1×28×28 images, the dataset's are 3×8×8", e.Message);
        var mlpOnly = spec with { Search = spec.Search with { Space = [spec.Search.Space[0] with { Texts = ["mlp"] }] } };
        var (input, classes) = SpecData.Check(mlpOnly, SearchSpace.Expand(mlpOnly));
        Assert.Equal([3, 8, 8], input);
        Assert.Equal(2, classes);
    }

    [Fact]
    public void Normalization_is_true_or_one_mean_and_std_per_channel()
    {
        string Spec(string normalize) =>
            $$"""{ "name": "n", "dataset": { "cifar10": "n10", "normalize": {{normalize}} }, """
            + """ "search": { "space": { "lambda": [0.001] } } }""";
        Cifar("n10", hundred: false, perFile: 1);

        var fromData = SpecParser.Parse(Spec("true"), _dir);
        var given = SpecParser.Parse(Spec("""{ "mean": [0.49, 0.48, 0.45], "std": [0.25, 0.24, 0.26] }"""), _dir);

        Assert.Equal(new Normalization { FromData = true }, fromData.Dataset.Normalize);
        Assert.Equal(new Normalization { Mean = [0.49, 0.48, 0.45], Std = [0.25, 0.24, 0.26] }, given.Dataset.Normalize);
        Assert.Equal(given.Dataset, SpecParser.Parse(Spec("""{ "mean": [0.49, 0.48, 0.45], "std": [0.25, 0.24, 0.26] }"""), _dir).Dataset);
        Assert.Equal("dataset.normalize.std[1]", Assert.Throws<SpecException>(() =>
            SpecParser.Parse(Spec("""{ "mean": [0.5, 0.5, 0.5], "std": [1, 0, 1] }"""), _dir)).Field);
        Assert.Equal("dataset.normalize.std", Assert.Throws<SpecException>(() =>
            SpecParser.Parse(Spec("""{ "mean": [0.5, 0.5, 0.5], "std": [1] }"""), _dir)).Field);
        var oneChannel = SpecParser.Parse(Spec("""{ "mean": [0.5], "std": [0.5] }"""), _dir);
        var e = Assert.Throws<SpecException>(() => SpecData.Check(oneChannel, SearchSpace.Expand(oneChannel)));
        Assert.Equal("dataset.normalize.mean", e.Field);
        Assert.Contains("the images have 3 channel(s)", e.Message);
    }

    [Fact]
    public void An_npy_header_with_absurd_dimensions_is_a_dataset_error_not_a_crash()
    {
        string images = Write("huge.npy", Npy("|u1", [4294967296, 28, 28], new byte[16]));
        string labels = Write("huge-labels.npy", Npy("|u1", [2], [0, 1]));

        var e = Assert.Throws<DatasetException>(() => DatasetReader.ReadPair(images, labels));

        Assert.Equal(images, e.Path);
        Assert.Contains("too large", e.Message);
    }

    [Fact]
    public void Augmentation_is_a_switch_of_the_training_set_only()
    {
        Cifar("aug", hundred: false, perFile: 1);
        string Spec(string dataset) => $$"""{ "name": "a", "dataset": {{dataset}}, "search": { "space": { "lambda": [0.001] } } }""";

        Assert.True(SpecParser.Parse(Spec("""{ "cifar10": "aug", "augment": true }"""), _dir).Dataset.Augment);
        Assert.False(SpecParser.Parse(Spec("""{ "cifar10": "aug" }"""), _dir).Dataset.Augment);
        Assert.Equal("dataset.augment", Assert.Throws<SpecException>(() =>
            SpecParser.Parse(Spec("""{ "cifar10": "aug", "augment": "yes" }"""), _dir)).Field);
        Assert.Equal("dataset.test.augment", Assert.Throws<SpecException>(() =>
            SpecParser.Parse(Spec("""{ "cifar10": "aug", "test": { "cifar10": "aug", "augment": true } }"""), _dir)).Field);
    }
}
