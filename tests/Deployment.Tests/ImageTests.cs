using System.Text.RegularExpressions;
using Xunit;

namespace Sweep.Deployment.Tests;

/// <summary>
/// No container engine runs here, so the image is checked through what it copies: the Dockerfile's own `dotnet publish`
/// command, run as written (CPU variant, another output folder), whose output must start, answer --help and train.
/// </summary>
public sealed class ImageTests
{
    private static string Dockerfile => File.ReadAllText(Path.Combine(Repo.Root, "Dockerfile"));

    [Fact]
    public void Dockerfile_publish_output_starts_answers_help_and_trains_with_the_image_data_setting()
    {
        var publish = Regex.Match(Dockerfile, @"^\s*dotnet publish (?<args>.+)$", RegexOptions.Multiline);
        Assert.True(publish.Success, "the Dockerfile has no `dotnet publish` line");
        string output = Path.Combine(Path.GetTempPath(), $"sweep-publish-{Guid.NewGuid():N}");
        var args = publish.Groups["args"].Value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a == "/app" ? output : a.Replace("${TORCH}", "cpu")).ToList();
        Assert.Contains(output, args);
        try
        {
            var (rc, stdout, stderr) = Repo.Run("dotnet", ["publish", .. args, "-nologo", "-v", "quiet"], timeout: TimeSpan.FromMinutes(3));
            Assert.True(rc == 0, $"dotnet publish {string.Join(' ', args)} failed:\n{stdout}\n{stderr}");
            // The image's ENTRYPOINT is `dotnet /app/sweep.dll`.
            string entry = Path.Combine(output, "sweep.dll");
            Assert.True(File.Exists(entry), "the publish output has no sweep.dll");
            Assert.Contains(Directory.EnumerateFiles(output, "libtorch*.so", SearchOption.AllDirectories),
                f => Path.GetFileName(f) == "libtorch_cpu.so");

            (rc, stdout, stderr) = Repo.Run("dotnet", [entry, "--help"]);
            Assert.True(rc == 0, $"sweep --help exited {rc}: {stderr}");
            Assert.Contains("usage: sweep", stdout + stderr);
            (rc, stdout, stderr) = Repo.Run("dotnet", [entry, "silo", "--help"]);
            Assert.True(rc == 0, $"sweep silo --help exited {rc}: {stderr}");
            Assert.Contains("usage: sweep silo", stdout + stderr);

            // As in the image: the dataset only through SWEEP_DATA (the output folder is outside the repository).
            string data = Regex.Match(Dockerfile, @"SWEEP_DATA=(\S+)").Groups[1].Value;
            Assert.Equal("/app/data", data);
            Assert.Matches(@"(?m)^COPY data/ \./data/$", Dockerfile);
            Assert.Matches(@"(?m)^WORKDIR /app$", Dockerfile);
            (rc, stdout, stderr) = Repo.Run("dotnet", [entry, "trial", "--model", "mlp", "--regularizer", "l2", "--lambda", "1e-4",
                    "--prune-rate", "0.5", "--epochs", "1", "--json"],
                env: new Dictionary<string, string> { ["SWEEP_DATA"] = Path.Combine(Repo.Root, "data") });
            Assert.True(rc == 0, $"sweep trial from the publish output exited {rc}: {stderr}");
            Assert.Contains("\"status\":\"completed\"", stdout.Replace(" ", ""));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void Dockerfile_runs_as_a_numeric_non_root_user_and_picks_natives_by_build_argument()
    {
        var user = Regex.Match(Dockerfile, @"(?m)^USER (\d+)$");
        Assert.True(user.Success && user.Groups[1].Value != "0", "the image must run as a numeric non-root USER");
        Assert.Matches(@"(?m)^ARG TORCH=cpu$", Dockerfile);
        Assert.Contains("-p:SweepTorch=${TORCH}", Dockerfile);
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/runtime:\$\{DOTNET_VERSION\}-noble AS runtime$", Dockerfile);
        string training = File.ReadAllText(Path.Combine(Repo.Root, "src", "Training", "Training.csproj"));
        Assert.Contains("<PackageReference Include=\"TorchSharp-cuda-linux\" />", training);
        Assert.Contains("TorchSharp-cuda-linux", File.ReadAllText(Path.Combine(Repo.Root, "Directory.Packages.props")));
    }
}
