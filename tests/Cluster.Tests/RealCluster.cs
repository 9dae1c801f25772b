using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Sweep.Client;

namespace Sweep.Cluster.Tests;

/// <summary>A redis-server started on a free loopback port for one test, killed at the end.</summary>
public sealed class RedisServer : IDisposable
{
    private Process _process;
    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";

    public RedisServer()
    {
        Port = RealCluster.FreePort();
        _process = Start();
    }

    // Without persistence, as a Redis started without thinking of it runs.
    private Process Start()
    {
        var psi = new ProcessStartInfo("redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Ping())
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
                throw new InvalidOperationException($"redis-server on port {Port} did not answer");
            Thread.Sleep(50);
        }
        return process;
    }

    /// <summary>SIGKILL, then a new redis-server on the same port: empty, as a Redis without persistence comes back.</summary>
    public void RestartEmpty()
    {
        _process.Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
        _process = Start();
    }

    private bool Ping()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            int n = stream.Read(buffer);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException) { return false; }
    }

    /// <summary>The keys matching a pattern (SCAN), read over a connection of its own.</summary>
    public async Task<IReadOnlyList<string>> KeysAsync(string pattern)
    {
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Address);
        var keys = new List<string>();
        await foreach (var key in redis.GetServer(redis.GetEndPoints()[0]).KeysAsync(pattern: pattern)) keys.Add(key.ToString());
        return keys;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>One `sweep silo` process of a Redis-clustered test cluster.</summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    public string Name { get; }
    public int GatewayPort { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for the process to exit by itself; true when it did within <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);
    public string Log { get { lock (_log) return _log.ToString(); } }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public int HealthPort { get; }

    public int Pid => _process.Id;

    /// <summary>Peak resident memory of the silo so far (VmHWM), in MB.</summary>
    public double PeakMegabytes()
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0]) / 1024.0;
        throw new InvalidOperationException("no VmHWM");
    }

    public SiloProcess(string redis, string clusterId, string name,
        IReadOnlyDictionary<string, string>? environment = null, IEnumerable<string>? arguments = null)
    {
        Name = name;
        int port = RealCluster.FreePort();
        GatewayPort = RealCluster.FreePort();
        HealthPort = RealCluster.FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "sweep.dll"), "silo", "--redis", redis, "--cluster-id", clusterId,
                     "--name", name, "--port", port.ToString(), "--gateway", GatewayPort.ToString(), "--slots", "1", "--threads", "1",
                     "--fuse", "1", "--health-port", HealthPort.ToString() }.Concat(arguments ?? []))
            psi.ArgumentList.Add(a);
        // Fast failure detection: a killed silo is declared dead in seconds, not the production default of tens of seconds.
        psi.Environment["Sweep__Membership__ProbeTimeout"] = "00:00:01";
        psi.Environment["Sweep__Membership__NumMissedProbesLimit"] = "2";
        psi.Environment["Sweep__Membership__NumVotesForDeathDeclaration"] = "1";
        psi.Environment["Sweep__Membership__TableRefreshTimeout"] = "00:00:02";
        psi.Environment["Sweep__Membership__IAmAliveTablePublishTimeout"] = "00:00:03";
        psi.Environment["Sweep__ShutdownTimeout"] = "00:00:20";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        _process = Process.Start(psi) ?? throw new InvalidOperationException("silo did not start");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: no goodbye, no handing back.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM: the silo drains and leaves; waits until it exited.</summary>
    public bool Terminate(TimeSpan timeout)
    {
        if (_process.HasExited) return true;
        kill(_process.Id, 15);
        return _process.WaitForExit(timeout);
    }

    public void Dispose()
    {
        try { Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>Redis plus silo processes plus a client; everything is killed on dispose, even when a test fails.</summary>
public sealed class RealCluster : IAsyncDisposable
{
    public RedisServer Redis { get; } = new();
    public string ClusterId { get; } = $"test-{Guid.NewGuid():N}"[..13];
    public List<SiloProcess> Silos { get; } = [];
    private SweepClient? _client;
    private int _next;

    public SiloProcess StartSilo(IReadOnlyDictionary<string, string>? environment = null, IEnumerable<string>? arguments = null)
    {
        var silo = new SiloProcess(Redis.Address, ClusterId, $"silo-{_next++}", environment, arguments);
        Silos.Add(silo);
        return silo;
    }

    public async Task<SweepClient> ClientAsync()
    {
        if (_client is not null) return _client;
        _client = await SweepClient.ConnectAsync(new SweepClientOptions
        {
            Redis = Redis.Address,
            ClusterId = ClusterId,
            Resilience = new() { ClientConnectAttempts = 20, ClientConnectDelay = TimeSpan.FromMilliseconds(500), ClientCallAttempts = 8 },
        });
        return _client;
    }

    public async Task ReconnectAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
        _client = null;
        await ClientAsync();
    }

    public string Logs() => string.Join("\n", Silos.Select(s => $"--- {s.Name} ---\n{Tail(s.Log, 30)}"));

    private static string Tail(string text, int lines) => string.Join("\n", text.Split('\n').TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try { await _client.DisposeAsync(); } catch (Exception) { }
        }
        foreach (var s in Silos) s.Dispose();
        Redis.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
