using Sweep.Core;
using System.Net;

namespace Sweep.Silo;

/// <summary>How a Sweep silo joins its cluster (bound from configuration section "Sweep" and SWEEP_* flags).</summary>
public sealed class SweepSiloOptions : IValidatedOptions
{
    public const string Section = "Sweep";

    /// <summary>The silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;
    /// <summary>The port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;
    /// <summary>Localhost clustering: the silo port of the primary silo (the first one started).</summary>
    public int PrimarySiloPort { get; set; } = 11111;
    public string ClusterId { get; set; } = "sweep";
    public string ServiceId { get; set; } = "sweep";
    /// <summary>
    /// Redis for membership, grain state and reminders ("host:port" or a StackExchange.Redis configuration string,
    /// e.g. "redis:6379,password=…"); null = localhost clustering with in-memory state.
    /// </summary>
    public string? Redis { get; set; }
    /// <summary>The address other silos and clients reach this silo at in Redis mode (on Kubernetes: the pod IP).</summary>
    public string AdvertisedIp { get; set; } = "127.0.0.1";
    /// <summary>
    /// The port of the health endpoints (/healthz/live, /healthz/ready, /healthz/startup); 0 = none; unset = 8080 in Redis
    /// mode (a deployment) and none in localhost mode (several silos share one machine there).
    /// </summary>
    public int? HealthPort { get; set; }

    public int EffectiveHealthPort => HealthPort ?? (Redis is null ? 0 : 8080);
    /// <summary>The silo's name in logs and results (default: POD_NAME on Kubernetes, else host-port).</summary>
    public string? SiloName { get; set; }
    /// <summary>How long a stopping silo waits for its trials to hand themselves back and for grains to deactivate.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Folders dataset files must lie in (real paths; symbolic links out of them are refused). Unset: with Redis (a
    /// deployment) only the built-in dataset; in localhost mode any file the silo's user can read.
    /// </summary>
    public string[]? DataRoots { get; set; }
    /// <summary>The most bytes one dataset file may hold, on disk and gunzipped (default 2 GiB).</summary>
    public long MaxDatasetBytes { get; set; } = Sweep.Core.Data.DataPolicy.DefaultMaxBytes;

    /// <summary>
    /// mTLS on every link (silo ↔ silo, client → gateway): a folder with tls.crt, tls.key and ca.crt (a Kubernetes TLS
    /// Secret's mount). Unset: no TLS (a laptop's localhost cluster).
    /// </summary>
    public string? TlsDirectory { get; set; }

    /// <summary>The dataset policy of this silo (<see cref="DataRoots"/>, <see cref="MaxDatasetBytes"/>).</summary>
    public Sweep.Core.Data.DataPolicy DataPolicy() =>
        new(DataRoots is { Length: > 0 } roots ? roots : Redis is null ? null : [], MaxDatasetBytes);

    /// <summary>Null when valid, else the first problem, naming the setting.</summary>
    public string? Validate()
    {
        static string? Port(string name, int value) =>
            value is < 1 or > 65535 ? $"Sweep:{name} must be a TCP port (1–65535), got {value}" : null;
        string? port = Port(nameof(SiloPort), SiloPort) ?? Port(nameof(GatewayPort), GatewayPort)
            ?? Port(nameof(PrimarySiloPort), PrimarySiloPort)
            ?? (EffectiveHealthPort != 0 ? Port(nameof(HealthPort), EffectiveHealthPort) : null);
        if (port is not null) return port;
        if (SiloPort == GatewayPort) return $"Sweep:SiloPort and Sweep:GatewayPort must differ (both {SiloPort})";
        if (string.IsNullOrWhiteSpace(ClusterId)) return "Sweep:ClusterId must not be empty";
        if (string.IsNullOrWhiteSpace(ServiceId)) return "Sweep:ServiceId must not be empty";
        if (Redis is not null)
        {
            if (string.IsNullOrWhiteSpace(Redis)) return "Sweep:Redis (--redis, SWEEP_REDIS) must not be empty";
            try { _ = StackExchange.Redis.ConfigurationOptions.Parse(Redis); }
            catch (Exception e) { return $"Sweep:Redis (--redis, SWEEP_REDIS) is not a Redis address: {e.Message}"; }
        }
        if (!IPAddress.TryParse(AdvertisedIp, out _)) return $"Sweep:AdvertisedIp must be an IP address, got '{AdvertisedIp}'";
        if (ShutdownTimeout <= TimeSpan.Zero) return "Sweep:ShutdownTimeout must be positive";
        if (TlsDirectory is not null)
        {
            try { _ = Sweep.Grains.Security.SweepTls.Load(TlsDirectory, "Sweep:TlsDirectory"); }
            catch (ArgumentException e) { return e.Message; }
        }
        if (MaxDatasetBytes < 1) return $"Sweep:MaxDatasetBytes must be positive, got {MaxDatasetBytes}";
        try { _ = DataPolicy(); }
        catch (ArgumentException e) { return e.Message; }
        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> with the first problem (<see cref="Validate"/>).</summary>
    public void ThrowIfInvalid()
    {
        if (Validate() is { } problem) throw new ArgumentException(problem);
    }

    public string EffectiveSiloName =>
        SiloName ?? Environment.GetEnvironmentVariable("POD_NAME") ?? $"{Environment.MachineName}-{SiloPort}";

    /// <summary>The Redis endpoint(s) without password or other secrets, for logs.</summary>
    public string RedisForLogs() => Redis is null
        ? "(none)"
        : string.Join(",", StackExchange.Redis.ConfigurationOptions.Parse(Redis).EndPoints.Select(e => e.ToString()));

    public static int FreeTcpPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
