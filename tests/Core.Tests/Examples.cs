using System.Text.Json.Nodes;

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

    /// <summary>An example as a mutable tree, so a test can change one field and serialize it back.</summary>
    public static JsonObject Tree(string name) => JsonNode.Parse(Text(name))!.AsObject();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sweep.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Sweep.sln above {AppContext.BaseDirectory}");
    }
}
