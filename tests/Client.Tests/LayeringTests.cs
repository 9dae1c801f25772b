using Xunit;
using System.Reflection;
using System.Xml.Linq;
using Sweep.Client;

namespace Sweep.Client.Tests;

/// <summary>
/// Sweep.Client is the programmatic API: a program that submits sweeps must not carry TorchSharp's natives, the
/// training engine or the silo host. These tests fail as soon as anything brings them in, directly or transitively.
/// </summary>
public sealed class LayeringTests
{
    private static readonly string[] Forbidden = ["TorchSharp", "libtorch", "Sweep.Training", "Sweep.Silo", "Sweep.Grains,", "sweep,"];

    [Fact]
    public void The_client_assembly_references_neither_the_engine_nor_the_silo()
    {
        var names = typeof(SweepClient).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.Contains("Sweep.Core", names);
        Assert.Contains("Sweep.Grains.Interfaces", names);
        Assert.DoesNotContain(names, n => n.StartsWith("TorchSharp", StringComparison.Ordinal)
            || n is "Sweep.Training" or "Sweep.Silo" or "Sweep.Grains");
    }

    [Fact]
    public void Nothing_the_client_depends_on_brings_in_the_engine_the_silo_or_libtorch()
    {
        // This test project references the library alone, so its dependency file lists everything the library needs.
        string deps = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Client.Tests.deps.json"));
        Assert.Contains("\"Sweep.Client/", deps, StringComparison.Ordinal);
        foreach (string name in Forbidden.Where(f => !f.EndsWith(',')))
            Assert.DoesNotContain($"\"{name}", deps, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"Sweep.Grains/", deps, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "TorchSharp.dll")), "TorchSharp.dll was copied next to the client");
    }

    [Fact]
    public void The_client_project_file_references_only_core_and_the_grain_interfaces()
    {
        var project = XDocument.Load(Path.Combine(RepositoryRoot(), "src", "Client", "Client.csproj"));
        var projects = project.Descendants("ProjectReference")
            .Select(e => Path.GetFileName(e.Attribute("Include")!.Value.Replace('\\', '/'))).Order().ToArray();
        Assert.Equal(["Core.csproj", "Grains.Interfaces.csproj"], projects);
        var packages = project.Descendants("PackageReference").Select(e => (string)e.Attribute("Include")!).ToArray();
        Assert.DoesNotContain(packages, p => p.Contains("torch", StringComparison.OrdinalIgnoreCase)
            || p.Contains("Orleans.Server", StringComparison.Ordinal)
            || p.Contains("Orleans.Runtime", StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sweep.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Sweep.sln above {AppContext.BaseDirectory}");
    }
}
