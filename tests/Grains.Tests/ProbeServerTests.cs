using System.Net;
using System.Net.Sockets;
using Sweep.Silo;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>
/// The silo's probe server starts while a client keeps connecting to its port, as Kubernetes (and HealthTests) poll a
/// starting silo: the managed HttpListener it replaces could throw from Start() then (dotnet/corefx#35191).
/// </summary>
public sealed class ProbeServerTests
{
    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task It_starts_while_clients_connect_and_answers_each_path()
    {
        var ct = TestContext.Current.CancellationToken;
        for (int round = 0; round < 20; round++)
        {
            int port = FreePort();
            using var hammering = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // Connections arriving just as the server starts listening (bounded: stops when told, or after 10 s).
            var hammer = Task.Run(async () =>
            {
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (!hammering.IsCancellationRequested && DateTime.UtcNow < until)
                {
                    using var client = new TcpClient();
                    try { await client.ConnectAsync(IPAddress.Loopback, port, hammering.Token); }
                    catch (Exception e) when (e is SocketException or OperationCanceledException) { }
                }
            }, ct);
            await Task.Delay(5, ct);
            using var server = new ProbeServer(IPAddress.Loopback, port, path => path == "/ok" ? (200, "fine") : (503, "no"));
            server.Start();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var serving = server.ServeAsync(stop.Token);
            await hammering.CancelAsync();
            await hammer;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var ok = await http.GetAsync($"http://127.0.0.1:{port}/ok", ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("fine\n", await ok.Content.ReadAsStringAsync(ct));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync($"http://127.0.0.1:{port}/other?x=1", ct)).StatusCode);
            await stop.CancelAsync();
            await serving;
        }
    }
}
