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

    [Fact]
    public void No_file_of_the_grains_project_is_longer_than_300_lines()
    {
        // Grains are effects over plain classes (docs/architecture.md): a grain file that grows is logic to move out.
        var files = Directory.EnumerateFiles(Path.Combine(Repo.Root, "src", "Grains"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToArray();
        Assert.NotEmpty(files);
        var tooLong = files.Select(f => (File: f, Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > 300)
            .Select(f => $"{Path.GetRelativePath(Repo.Root, f.File)} ({f.Lines} lines)")
            .ToArray();
        Assert.True(tooLong.Length == 0, "files of src/Grains over 300 lines: " + string.Join(", ", tooLong));
    }
}
