using System.Diagnostics;
using System.Net.Sockets;

namespace Sweep.Cli.Commands;

/// <summary>
/// `sweep dashboard`: the Aspire dashboard (NuGet package Aspire.Dashboard.Sdk.linux-x64, fetched on first use) as a local
/// OTLP receiver and trace viewer on 127.0.0.1.
/// </summary>
public static class DashboardCommand
{
    public const string Version = "13.6.5";

    public const string Help = """
        usage: sweep dashboard [--port 18888] [--otlp-port 4317]
        Starts the Aspire dashboard on http://127.0.0.1:PORT, receiving OTLP on 127.0.0.1:OTLP-PORT (gRPC) and OTLP-PORT+1
        (HTTP), until Ctrl+C. Point Sweep at it with the standard variable, in any terminal:
            OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 ./sweep run examples/mnist-grid.json
            OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 ./sweep silo --redis …
        or run `./sweep run SPEC --dashboard`, which starts the dashboard (if needed) and exports to it.
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var a = new CommandArgs("dashboard", argv, ["port", "otlp-port"]);
        a.NoMorePositional(0);
        int port = a.Int("port", 18888), otlp = a.Int("otlp-port", 4317);
        foreach (var (flag, p) in new[] { ("--port", port), ("--otlp-port", otlp) })
            if (p is < 1 or > 65534) throw new UsageException($"{flag}: {p} is not a TCP port");
        using var dashboard = Start(port, otlp, inheritOutput: true);
        Console.Error.WriteLine(
            $"sweep: dashboard on http://127.0.0.1:{port}; "
            + $"send telemetry with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{otlp}; Ctrl+C stops it");
        try
        {
            await dashboard.WaitForExitAsync(cancellationToken);
            return dashboard.ExitCode;
        }
        catch (OperationCanceledException)
        {
            dashboard.Kill(entireProcessTree: true);
            return 0;
        }
    }

    /// <summary>Starts the dashboard unless something already listens on its port; returns null then.</summary>
    public static Process? EnsureRunning(int port = 18888, int otlp = 4317)
    {
        if (Listening(port)) return null;
        var process = Start(port, otlp, inheritOutput: false);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!Listening(otlp))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException(
                    $"the Aspire dashboard did not start (exit code {(process.HasExited ? process.ExitCode : -1)})");
            Thread.Sleep(200);
        }
        return process;
    }

    private static Process Start(int port, int otlp, bool inheritOutput)
    {
        string binary = Locate();
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = !inheritOutput,
            RedirectStandardError = !inheritOutput,
            WorkingDirectory = Path.GetDirectoryName(binary)!,
        };
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{otlp}";
        psi.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://127.0.0.1:{otlp + 1}";
        psi.Environment["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        if (!psi.Environment.ContainsKey("DOTNET_ROOT")) psi.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(Environment.ProcessPath);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("the Aspire dashboard did not start");
        if (!inheritOutput)
        {
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
        return process;
    }

    /// <summary>The dashboard binary in the NuGet package folder, restored from tools/dashboard on first use.</summary>
    private static string Locate()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string binary = Path.Combine(packages, "aspire.dashboard.sdk.linux-x64", Version, "tools", "Aspire.Dashboard");
        if (File.Exists(binary)) return binary;
        string project = Path.Combine(RepositoryRoot(), "tools", "dashboard", "dashboard.csproj");
        Console.Error.WriteLine($"sweep: fetching the Aspire dashboard {Version} (once, about 125 MB)…");
        using var restore = Process.Start(new ProcessStartInfo("dotnet", ["restore", project, "-nologo", "-v", "quiet"]))
            ?? throw new InvalidOperationException("dotnet restore did not start");
        restore.WaitForExit();
        if (restore.ExitCode != 0 || !File.Exists(binary))
            throw new InvalidOperationException($"could not fetch Aspire.Dashboard.Sdk.linux-x64 {Version} (dotnet restore {project})");
        return binary;
    }

    private static string RepositoryRoot()
    {
        if (Environment.GetEnvironmentVariable("SWEEP_REPO") is { Length: > 0 } repo) return repo;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sweep.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository (set SWEEP_REPO)");
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }
}
