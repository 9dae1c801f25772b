using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Sweep.Cli.Tests;

/// <summary>A `sweep silo` process forming its own localhost cluster on free ports, killed on dispose.</summary>
public sealed class LocalSilo : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public int GatewayPort { get; } = FreePort();
    public string ClusterId { get; } = $"plot-{Guid.NewGuid():N}"[..13];

    /// <summary>The flags that point a client command at this silo.</summary>
    public string[] ClientFlags => ["--gateway", GatewayPort.ToString(), "--cluster-id", ClusterId];

    public string Log { get { lock (_log) return _log.ToString(); } }

    public LocalSilo()
    {
        string port = FreePort().ToString();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { SweepProcess.Dll, "silo", "--port", port, "--primary", port, "--gateway", GatewayPort.ToString(),
                     "--cluster-id", ClusterId, "--slots", "1", "--threads", "1" })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("the silo did not start");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class PlotByIdTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-plot-id-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_sweep_on_a_running_cluster_is_plotted_by_its_id_and_an_unknown_id_exits_2()
    {
        using var silo = new LocalSilo();
        string spec = Path.Combine(_dir, "spec.json");
        await File.WriteAllTextAsync(spec, """
            {
              "name": "plot-by-id",
              "model": "mlp",
              "training": { "epochs": 1, "trainLimit": 500 },
              "search": { "strategy": "grid", "space": { "regularizer": ["l1", "l2"], "lambda": [1e-4] } },
              "seeds": [0]
            }
            """, TestContext.Current.CancellationToken);

        var submit = await SweepProcess.RunAsync(["submit", spec, .. silo.ClientFlags], timeout: TimeSpan.FromMinutes(3));
        Assert.True(submit.ExitCode == 0, submit.Stderr + silo.Log);
        string id = submit.Stdout.Trim();
        var watch = await SweepProcess.RunAsync(["watch", id, .. silo.ClientFlags], timeout: TimeSpan.FromMinutes(3));
        Assert.True(watch.ExitCode == 0, watch.Stderr + silo.Log);

        var plot = await SweepProcess.RunAsync(["plot", id, "--kind", "lambda", "--metric", "accuracy", .. silo.ClientFlags],
            workingDirectory: _dir);
        Assert.True(plot.ExitCode == 0, plot.Stderr);
        // An id has no folder: the plot lands in the current directory.
        Assert.True(File.Exists(Path.Combine(_dir, "plot-lambda.svg")));
        var data = JsonDocument.Parse(
            await File.ReadAllTextAsync(Path.Combine(_dir, "plot-lambda.json"), TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(2, data.GetProperty("trials").GetInt32());
        Assert.StartsWith("plot-by-id: accuracy vs λ", data.GetProperty("title").GetString());
        var panel = Assert.Single(data.GetProperty("panels").EnumerateArray().ToArray());
        Assert.Equal(["l1", "l2"], panel.GetProperty("series").EnumerateArray().Select(s => s.GetProperty("name").GetString()));

        var unknown = await SweepProcess.RunAsync(["plot", "no-such-sweep", "--kind", "front", .. silo.ClientFlags],
            workingDirectory: _dir);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("sweep: no-such-sweep: no sweep with this id in the cluster (see: sweep list)", unknown.Stderr.Trim());
    }
}
