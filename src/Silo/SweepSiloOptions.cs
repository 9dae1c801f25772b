using System.Net;

namespace Sweep.Silo;

/// <summary>How a Sweep silo joins its cluster (bound from configuration section "Sweep" and SWEEP_* flags).</summary>
public sealed class SweepSiloOptions
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

    /// <summary>Checks ports; the message names the setting.</summary>
    public void Validate()
    {
        static void Port(string name, int value)
        {
            if (value is < 1 or > 65535) throw new ArgumentException($"Sweep:{name} must be a TCP port (1–65535), got {value}");
        }
        Port(nameof(SiloPort), SiloPort);
        Port(nameof(GatewayPort), GatewayPort);
        Port(nameof(PrimarySiloPort), PrimarySiloPort);
        if (SiloPort == GatewayPort) throw new ArgumentException($"Sweep:SiloPort and Sweep:GatewayPort must differ (both {SiloPort})");
        if (string.IsNullOrWhiteSpace(ClusterId)) throw new ArgumentException("Sweep:ClusterId must not be empty");
        if (string.IsNullOrWhiteSpace(ServiceId)) throw new ArgumentException("Sweep:ServiceId must not be empty");
    }

    public static int FreeTcpPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
