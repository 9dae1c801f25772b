using Sweep.Training;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Sweep.Grains.Slots;

namespace Sweep.Silo;

/// <summary>
/// Kubernetes probes on Sweep:HealthPort (all interfaces): /healthz/live (the process answers), /healthz/startup and
/// /healthz/ready (the silo is active in the cluster and the registry has its training slots). 200 when true, 503 when not.
/// </summary>
public sealed class SiloHealth(
    int port, ISiloStatusOracle status, SlotAdvertiser advertiser, TrialSlotPool slots, ILogger<SiloHealth> logger)
    : BackgroundService
{
    public bool IsReady => status.CurrentStatus == SiloStatus.Active && advertiser.HasAdvertised;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var server = new ProbeServer(IPAddress.Any, port, Answer);
        try
        {
            server.Start();
        }
        catch (SocketException e)
        {
            logger.LogError("Health endpoints could not listen on port {Port}: {Reason}", port, e.Message);
            return;
        }
        logger.LogInformation("Health endpoints on port {Port}: /healthz/live, /healthz/ready, /healthz/startup", port);
        await server.ServeAsync(stoppingToken);
    }

    private (int Status, string Body) Answer(string path) => path.TrimEnd('/') switch
    {
        "/healthz/live" => (200, "live"),
        "/healthz/ready" or "/healthz/startup" => IsReady
            ? (200, $"ready: {status.CurrentStatus}, {slots.Slots} slot(s), {slots.Capacity} trial place(s), {slots.Busy} busy")
            : (503, $"not ready: silo {status.CurrentStatus}, "
                + $"slots {(advertiser.HasAdvertised ? "registered" : "not registered yet")}"),
        _ => (404, "unknown: use /healthz/live, /healthz/ready or /healthz/startup"),
    };
}
