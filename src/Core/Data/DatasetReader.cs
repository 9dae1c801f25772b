using Sweep.Core.Models;

namespace Sweep.Core.Data;

/// <summary>
/// Reads a spec's dataset (<see cref="DatasetRef"/>) into its train set and, where the dataset has one of its own, its
/// test set: CIFAR's test batch, or the <c>"test"</c> dataset a spec names. Without one, trainers split the train set
/// 80/20 (docs/algorithm.md). Every problem is a <see cref="DatasetException"/> naming the file. Pure file reading (no
/// TorchSharp): the command line checks a dataset with it before a sweep starts, and the engine loads with it.
/// </summary>
public static class DatasetReader
{
    /// <summary>The train set and the dataset's own test set (null: split the train set).</summary>
    public static (ImageData Train, ImageData? Test) Read(DatasetRef source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (train, ownTest) = ReadOne(source);
        var test = source.Test is { } t ? ReadOne(t).Train : ownTest;
        if (test is not null)
        {
            string testFile = source.Test is { } named ? FirstFile(named) : FirstFile(source);
            if ((test.Channels, test.Height, test.Width) != (train.Channels, train.Height, train.Width))
                throw new DatasetException(testFile, $"test images are {test.ShapeText} but the train images are {train.ShapeText}");
            if (test.Count < 1) throw new DatasetException(testFile, "the test set is empty");
        }
        else if (train.Count < 2)
            throw new DatasetException(FirstFile(source), $"{train.Count} images is too few to split into train and test");
        if (train.Classes < 2) throw new DatasetException(FirstFile(source), "every train label is 0: at least two classes are needed");
        return (train, test);
    }

    /// <summary>Reads the dataset to check it (a spec is refused before its sweep starts when this throws).</summary>
    public static void Check(DatasetRef source) => Read(source);

    /// <summary>Every file the dataset reads, absolute (a CIFAR folder's batch files; the built-in dataset's IDX files).</summary>
    public static IReadOnlyList<string> FilesOf(DatasetRef source)
    {
        ArgumentNullException.ThrowIfNull(source);
        string[] own = source switch
        {
            { Name: { } name } => [BuiltIn(name).Images, BuiltIn(name).Labels],
            { Cifar10: { } dir } => [.. CifarReader.Files(dir, hundred: false).Train, .. CifarReader.Files(dir, hundred: false).Test],
            { Cifar100: { } dir } => [.. CifarReader.Files(dir, hundred: true).Train, .. CifarReader.Files(dir, hundred: true).Test],
            _ => [source.Images!, source.Labels!],
        };
        return source.Test is { } test ? [.. own, .. FilesOf(test)] : own;
    }

    private static (ImageData Train, ImageData? Test) ReadOne(DatasetRef s)
    {
        if (s.Cifar10 is { } ten)
        {
            var (train, test) = CifarReader.Files(ten, hundred: false);
            return (CifarReader.Read(train, hundred: false), CifarReader.Read(test, hundred: false));
        }
        if (s.Cifar100 is { } hundred)
        {
            var (train, test) = CifarReader.Files(hundred, hundred: true);
            return (CifarReader.Read(train, hundred: true), CifarReader.Read(test, hundred: true));
        }
        var (images, labels) = s.Name is { } name ? BuiltIn(name) : (s.Images!, s.Labels!);
        return (ReadPair(images, labels), null);
    }

    /// <summary>An images file and its labels: NumPy .npy files (by their magic) or IDX (gzipped or raw).</summary>
    public static ImageData ReadPair(string images, string labels) =>
        IsNpy(images) ? NpyReader.ReadImages(images, labels) : IdxReader.Read(images, labels);

    // An unreadable file is not .npy here: the IDX reader then reports why it cannot be read.
    private static bool IsNpy(string path)
    {
        try
        {
            // The policy first: a device or a pipe is never opened (opening a FIFO would block).
            string real;
            try { real = DataPolicy.Current.Check(path); }
            catch (DatasetException e) when (e is not DatasetRefusedException) { return false; }
            using var file = File.OpenRead(real);
            Span<byte> magic = stackalloc byte[6];
            return file.Read(magic) == 6 && magic[0] == 0x93 && magic[1..].SequenceEqual("NUMPY"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The IDX files of a built-in dataset (the repository's data/ folder, or SWEEP_DATA).</summary>
    public static (string Images, string Labels) BuiltIn(string name)
    {
        if (name != DatasetRef.Mnist10k.Name)
            throw new DatasetException(name, $"unknown built-in dataset (known: {DatasetRef.Mnist10k.Name})");
        string dir = DataDirectory.Find(name);
        return (Path.Combine(dir, "mnist10k-images-idx3-ubyte.gz"), Path.Combine(dir, "mnist10k-labels-idx1-ubyte.gz"));
    }

    private static string FirstFile(DatasetRef s) => s.Cifar10 ?? s.Cifar100 ?? s.Images ?? s.Name ?? "dataset";
}

/// <summary>Finds the shipped data/ folder: SWEEP_DATA, next to the binaries, or above them in the repository.</summary>
public static class DataDirectory
{
    public static string Find(string name)
    {
        var env = Environment.GetEnvironmentVariable("SWEEP_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(Path.Combine(env, name))) return Path.Combine(env, name);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "data", name);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DatasetException(name,
            "the built-in dataset folder data/" + name + " was not found (set SWEEP_DATA to the folder that holds it)");
    }
}

/// <summary>What the command line checks of a spec's data before a sweep starts.</summary>
public static class SpecData
{
    /// <summary>
    /// Reads the spec's dataset (a truncated, mismatched or unreadable file is a <see cref="DatasetException"/> naming it)
    /// and checks that every model of the sweep can take its images (else a <see cref="Search.SpecException"/> naming
    /// "model"). Returns the train set's sample shape and the classes.
    /// </summary>
    public static (IReadOnlyList<int> Input, int Classes) Check(SweepSpec spec, IEnumerable<TrialPlan> plans)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (train, test) = DatasetReader.Read(spec.Dataset);
        int[] input = [train.Channels, train.Height, train.Width];
        CheckModels(spec, plans, input);
        return (input, Math.Max(train.Classes, test?.Classes ?? 0));
    }

    /// <summary>
    /// The checks that need only the images' shape ([channels, height, width]): normalization values per channel, and
    /// every model of the sweep able to take such images.
    /// </summary>
    public static void CheckModels(SweepSpec spec, IEnumerable<TrialPlan> plans, IReadOnlyList<int> input)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Dataset.Normalize is { FromData: false } n && n.Mean.Count != input[0])
            throw new Search.SpecException("dataset.normalize.mean",
                $"{n.Mean.Count} value(s) but the images have {input[0]} channel(s) (one value per channel)");
        foreach (string model in plans.Select(p => p.Params.Model).Distinct(StringComparer.Ordinal))
            if (ModelSpec.Parse(model).InputProblem(input) is { } problem)
                throw new Search.SpecException("model", problem);
    }

    /// <summary>The images' shape of the built-in dataset (which lives with the silos, not the client).</summary>
    public static IReadOnlyList<int> BuiltInInput { get; } = [1, 28, 28];

    /// <summary>The classes of the built-in dataset.</summary>
    public const int BuiltInClasses = 10;
}
