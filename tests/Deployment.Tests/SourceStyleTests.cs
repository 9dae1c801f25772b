using Xunit;

namespace Sweep.Deployment.Tests;

/// <summary>Rules of .editorconfig that the compiler does not enforce.</summary>
public sealed class SourceStyleTests
{
    [Fact]
    public void No_line_of_csharp_source_is_longer_than_140_characters()
    {
        var files = new[] { "src", "tests" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(Repo.Root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToArray();
        Assert.NotEmpty(files);
        var longLines = files.SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, line.Length)))
            .Where(l => l.Length > 140)
            .Select(l => $"{Path.GetRelativePath(Repo.Root, l.File)}:{l.Line} ({l.Length})")
            .ToArray();
        Assert.True(longLines.Length == 0, "lines over 140 characters: " + string.Join(", ", longLines.Take(20)));
    }
}
