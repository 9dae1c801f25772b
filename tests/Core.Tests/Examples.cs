using System.Text.Json.Nodes;
using Sweep.Core.Models;
using Sweep.Core.Search;

namespace Sweep.Core.Tests;

/// <summary>The repository's example specs, found from the test binaries by walking up to Sweep.sln.</summary>
internal static class Examples
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string PathOf(string name) => Path.Combine(RepositoryRoot, "examples", name);

    /// <summary>The specs of the paper study, as names under examples/ (e.g. "paper/mlp-l1.json"), sorted.</summary>
    public static IReadOnlyList<string> Paper() =>
        Directory.GetFiles(Path.Combine(RepositoryRoot, "examples", "paper"), "*.json")
            .Select(f => "paper/" + Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    public static string Text(string name) => File.ReadAllText(PathOf(name));

    /// <summary>
    /// Parses an example. A CIFAR folder it names that this machine lacks (examples/paper/vgg-*.json name
    /// data/cifar-10-batches-bin and data/mnist-as-cifar10, which a fresh clone has not) is replaced by an empty folder:
    /// parsing checks only that the folder exists, and trial ids do not depend on the dataset.
    /// </summary>
    public static SweepSpec Load(string name)
    {
        string path = PathOf(name), folder = Path.GetDirectoryName(path)!;
        var tree = Tree(name);
        if (tree["dataset"] is JsonObject dataset)
            foreach (string key in new[] { "cifar10", "cifar100" })
                if (dataset[key] is JsonValue value && !Directory.Exists(Path.Combine(folder, value.GetValue<string>())))
                    dataset[key] = StandIn.Value;
        return SpecParser.Parse(tree.ToJsonString(), folder);
    }

    private static readonly Lazy<string> StandIn = new(() => Directory.CreateTempSubdirectory("sweep-example-cifar-").FullName);

    /// <summary>An example as a mutable tree, so a test can change one field and serialize it back.</summary>
    public static JsonObject Tree(string name) => JsonNode.Parse(Text(name))!.AsObject();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sweep.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Sweep.sln above {AppContext.BaseDirectory}");
    }
}
