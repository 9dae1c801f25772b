using Sweep.Training;
using System.Net;
using System.Text;
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
    private readonly HttpListener _listener = new();

    public bool IsReady => status.CurrentStatus == SiloStatus.Active && advertiser.HasAdvertised;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _listener.Prefixes.Add($"http://*:{port}/healthz/");
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            logger.LogError("Health endpoints could not listen on port {Port}: {Reason}", port, e.Message);
            return;
        }
        logger.LogInformation("Health endpoints on port {Port}: /healthz/live, /healthz/ready, /healthz/startup", port);
        using var stop = stoppingToken.Register(() => _listener.Stop());
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (stoppingToken.IsCancellationRequested) { break; }
            catch (HttpListenerException) { continue; }
            Answer(context);
        }
    }

    private void Answer(HttpListenerContext context)
    {
        string path = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? "";
        (int code, string body) = path switch
        {
            "/healthz/live" => (200, "live"),
            "/healthz/ready" or "/healthz/startup" => IsReady
                ? (200, $"ready: {status.CurrentStatus}, {slots.Slots} slot(s), {slots.Capacity} trial place(s), {slots.Busy} busy")
                : (503, $"not ready: silo {status.CurrentStatus}, "
                    + $"slots {(advertiser.HasAdvertised ? "registered" : "not registered yet")}"),
            _ => (404, "unknown: use /healthz/live, /healthz/ready or /healthz/startup"),
        };
        var bytes = Encoding.UTF8.GetBytes(body + "\n");
        context.Response.StatusCode = code;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    public override void Dispose()
    {
        _listener.Close();
        base.Dispose();
    }
}
