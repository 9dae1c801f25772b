using System.Text.Json;
using Xunit;

namespace Sweep.Cli.Tests;

public sealed class TrialCommandTests
{
    [Fact]
    public async Task Trial_json_prints_one_result_object_in_the_contract_shape()
    {
        var r = await SweepProcess.RunAsync(["trial", "--model", "mlp", "--regularizer", "l1", "--lambda", "1e-5", "--prune-rate", "0.5",
            "--epochs", "1", "--train-limit", "1000", "--seed", "3", "--json"]);
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        var root = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("completed", root.GetProperty("status").GetString());
        var p = root.GetProperty("params");
        Assert.Equal("l1", p.GetProperty("regularizer").GetString());
        Assert.Equal(1e-5, p.GetProperty("lambda").GetDouble());
        Assert.Equal(3, p.GetProperty("seed").GetInt64());
        Assert.Equal(0.5, root.GetProperty("weightSparsity").GetDouble(), 3);
        Assert.InRange(root.GetProperty("accuracy").GetDouble(), 0.2, 1.0); // 16 steps: well above chance (0.1), far from trained
        Assert.Equal(3, root.GetProperty("layers").GetArrayLength());
        Assert.Equal(1, root.GetProperty("epochs").GetArrayLength());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
    }

    [Theory]
    [InlineData("--lambda", "-1", "--lambda")]
    [InlineData("--prune-rate", "1.5", "--prune-rate")]
    [InlineData("--model", "nope", "--model")]
    [InlineData("--epochs", "five", "--epochs")]
    [InlineData("--regularizer", "l3", "--regularizer")]
    [InlineData("--prune-method", "random", "--prune-method")]
    [InlineData("--temperature", "0", "--temperature")]
    [InlineData("--frobnicate", "1", "--frobnicate")]
    public async Task Bad_flags_exit_2_with_one_line_naming_the_flag(string flag, string value, string named)
    {
        var r = await SweepProcess.RunAsync(["trial", flag, value]);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task A_missing_images_file_exits_2_naming_the_file()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"sweep-missing-{Guid.NewGuid():N}.gz");
        var r = await SweepProcess.RunAsync(["trial", "--images", missing, "--labels", missing]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"sweep: --images: {missing}: file not found", r.Stderr.Trim());
    }

    [Fact]
    public async Task A_corrupt_dataset_exits_2_naming_the_file()
    {
        string dir = Directory.CreateTempSubdirectory("sweep-bad-").FullName;
        try
        {
            string images = Path.Combine(dir, "images"), labels = Path.Combine(dir, "labels");
            await File.WriteAllBytesAsync(images, [0, 0, 8, 1, 0, 0, 0, 0]);
            await File.WriteAllBytesAsync(labels, [0, 0, 8, 1, 0, 0, 0, 0]);
            var r = await SweepProcess.RunAsync(["trial", "--images", images, "--labels", labels]);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(images, r.Stderr);
            Assert.Contains("magic", r.Stderr);
        }
        finally { Directory.Delete(dir, true); }
    }
}
