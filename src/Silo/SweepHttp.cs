using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sweep.Api;
using Sweep.Client;
using Sweep.Core;
using Sweep.Grains.Security;

namespace Sweep.Silo;

/// <summary>The HTTP API and dashboard of a silo (section "Sweep:Http"; off unless a port is set).</summary>
public sealed class SweepHttpOptions : IValidatedOptions
{
    public const string Section = "Sweep:Http";

    /// <summary>The port (`sweep silo --http-port`); null = no API; 0 = any free port.</summary>
    public int? Port { get; set; }
    /// <summary>The address to listen on (default 127.0.0.1). Any other needs TLS and a client credential.</summary>
    public string Address { get; set; } = "127.0.0.1";

    public string? Validate()
    {
        if (Port is < 0 or > 65535) return $"Sweep:Http:Port must be a TCP port (0–65535), got {Port}";
        if (!IPAddress.TryParse(Address, out _)) return $"Sweep:Http:Address must be an IP address, got '{Address}'";
        return null;
    }

    /// <summary>Null when the API may listen as configured: beyond loopback only over HTTPS and with a client credential.</summary>
    public string? CheckExposure(string? tlsDirectory, string? clientToken)
    {
        if (IPAddress.IsLoopback(IPAddress.Parse(Address))) return null;
        if (tlsDirectory is null)
            return $"Sweep:Http:Address {Address} is not loopback: the API needs Sweep:TlsDirectory (it serves HTTPS with the silo's "
                + "certificate) so that bearer tokens never cross the network in clear";
        if (clientToken is null)
            return $"Sweep:Http:Address {Address} is not loopback: the API needs Sweep:ClientToken (its bearer token)";
        return null;
    }
}

/// <summary>Runs the API server beside the silo, over the silo's own cluster client.</summary>
public sealed class SweepHttpService(
    IServiceProvider services, SweepHttpOptions http, string? tlsDirectory, ILogger<SweepHttpService> logger) : IHostedService
{
    private SweepApiServer? _server;

    /// <summary>Where the API answers, once started.</summary>
    public string? Url => _server?.Url;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var security = services.GetRequiredService<IOptions<SweepSecurityOptions>>().Value;
        var client = new SweepClient(services.GetRequiredService<IClusterClient>());
        _server = await SweepApiServer.StartAsync(client, new SweepApiSettings
        {
            Address = IPAddress.Parse(http.Address),
            Port = http.Port ?? 0,
            Token = security.ClientToken,
            Certificate = tlsDirectory is null ? null : SweepTls.Load(tlsDirectory, "Sweep:TlsDirectory").Certificate,
        }, services.GetRequiredService<ILoggerFactory>(), cancellationToken);
        logger.LogInformation("HTTP API and dashboard at {Url} ({Auth})", _server.Url,
            security.ClientToken is null ? "no credential asked" : "bearer token required");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
