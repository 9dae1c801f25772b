using Xunit;

namespace Sweep.Cli.Tests;

/// <summary>The cluster commands' handling of their flags, without a cluster.</summary>
public sealed class ClusterCommandTests
{
    [Fact]
    public async Task An_unparsable_redis_string_is_refused_without_echoing_its_password()
    {
        var outcome = await SweepProcess.RunAsync(["status", "some-id", "--redis", "redis:6379,password=hunter2,nosuchkey=1"]);

        Assert.Equal(2, outcome.ExitCode);
        string line = Assert.Single(outcome.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sweep: --redis: not a Redis address", line);
        Assert.DoesNotContain("hunter2", outcome.Stderr + outcome.Stdout);
    }

    [Theory]
    [InlineData("--gateway", "sweep-gateway:http", "--gateway: 'sweep-gateway:http' is not HOST:PORT")]
    [InlineData("--gateway", "host:0", "--gateway: 'host:0' is not HOST:PORT")]
    [InlineData("--token-file", "/nonexistent/token", "--token-file: /nonexistent/token: cannot read it")]
    [InlineData("--tls", "/nonexistent/tls", "--tls: /nonexistent/tls: no such folder")]
    public async Task Bad_gateway_token_or_tls_flags_are_one_line_and_exit_2(string flag, string value, string message)
    {
        var outcome = await SweepProcess.RunAsync(["list", flag, value]);

        Assert.Equal(2, outcome.ExitCode);
        string line = Assert.Single(outcome.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sweep: " + message, line);
    }

    [Fact]
    public async Task A_tls_folder_without_its_files_or_a_missing_data_root_stops_the_silo_with_one_line()
    {
        string dir = Directory.CreateTempSubdirectory("sweep-tls-").FullName;
        try
        {
            var tls = await SweepProcess.RunAsync(["silo", "--tls", dir, "--port", "11999", "--gateway", "30999"]);
            Assert.Equal(2, tls.ExitCode);
            Assert.StartsWith($"sweep: Sweep:TlsDirectory: {dir}/tls.crt: file not found",
                Assert.Single(tls.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
            var roots = await SweepProcess.RunAsync(["silo", "--data-root", dir + "/none", "--port", "11999", "--gateway", "30999"]);
            Assert.Equal(2, roots.ExitCode);
            Assert.StartsWith($"sweep: Sweep:DataRoots: '{dir}/none' is not a folder",
                Assert.Single(roots.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task A_silo_refuses_a_client_token_shorter_than_16_characters()
    {
        var outcome = await SweepProcess.RunAsync(["silo", "--port", "11998", "--gateway", "30998"],
            environment: new() { ["Sweep__ClientToken"] = "short" });
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("sweep: Sweep:ClientToken must be at least 16 characters", outcome.Stderr.Trim());
    }

    [Fact]
    public async Task A_silo_refuses_to_serve_its_api_beyond_loopback_without_tls_and_a_client_token_and_a_bad_api_port()
    {
        var open = await SweepProcess.RunAsync(["silo", "--port", "11997", "--gateway", "30997", "--http-port", "18997"],
            environment: new() { ["Sweep__Http__Address"] = "0.0.0.0" });
        Assert.Equal(2, open.ExitCode);
        Assert.StartsWith("sweep: Sweep:Http:Address 0.0.0.0 is not loopback: the API needs Sweep:TlsDirectory",
            Assert.Single(open.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        var port = await SweepProcess.RunAsync(["silo", "--port", "11997", "--gateway", "30997", "--http-port", "70000"]);
        Assert.Equal(2, port.ExitCode);
        Assert.Equal("sweep: Sweep:Http:Port must be a TCP port (0–65535), got 70000", port.Stderr.Trim());
        var ui = await SweepProcess.RunAsync(["run", "examples/mnist-grid.json", "--ui-port", "-1"]);
        Assert.Equal(2, ui.ExitCode);
        Assert.Equal("sweep: --ui-port: must be a TCP port (0–65535), got -1", ui.Stderr.Trim());
    }

    [Fact]
    public async Task A_silo_without_a_primary_says_which_it_looked_for_in_one_line_within_seconds()
    {
        // The primary's port is held bound but not listening for the test's length: connections to it are refused, and no
        // other process can take it meanwhile. (A port only looked up free was once bound and listened on by another
        // test's process during the silo's 20-s probe: the silo joined that and never exited, 1 of 16 repeated runs.)
        using var reserved = new System.Net.Sockets.Socket(
            System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        reserved.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = FreePort(), primary = ((System.Net.IPEndPoint)reserved.LocalEndPoint!).Port;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outcome = await SweepProcess.RunAsync(
            ["silo", "--port", port.ToString(), "--gateway", FreePort().ToString(), "--primary", primary.ToString(), "--health-port", "0"],
            timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(2, outcome.ExitCode);
        string line = Assert.Single(outcome.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"sweep: no primary silo answers at 127.0.0.1:{primary}: a localhost cluster forms around its primary; start it "
            + $"first (./sweep silo --port {primary}), give --primary PORT, or use --redis HOST:PORT", line);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
