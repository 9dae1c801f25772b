using Microsoft.Extensions.Hosting;
using Sweep.Silo;

namespace Sweep.Cli.Commands;

/// <summary>`sweep silo`: a long-running silo (Ctrl+C or SIGTERM drains and stops it).</summary>
public static class SiloCommand
{
    public const string Help = """
        usage: sweep silo [--redis HOST:PORT] [--port P] [--gateway G] [--primary P] [--advertise IP] [--name NAME]
                          [--slots N] [--threads N] [--fuse N] [--device auto|cpu|cuda] [--cluster-id ID] [--health-port P]
                          [--models DIR] [--data-root DIR[:DIR…]] [--tls DIR] [--http-port P]
        A silo of a cluster. With --redis (or SWEEP_REDIS, or Sweep:Redis in appsettings.json) silos find each other
        through Redis and keep sweep and trial state there, so a sweep survives dying silos and a restart of the whole
        cluster; without it, silos form a localhost cluster (the first on port 11111 / gateway 30000; start more with
        other ports, e.g. --port 11112 --gateway 30001) and state lives in memory.
        --slots: trials trained at once (default: one per GPU, or one per core; 0: this silo trains nothing);
        --threads: threads per slot; --fuse: up to N compatible trials train together per slot (default 4; 1: off).
        A silo offers slots × fuse trial places; trials are placed on the silos with the most free places.
        --models (Sweep:ModelsDirectory): where trials of specs with "saveModels": true save their trained models, as
        DIR/SWEEP_ID/TRIAL_ID.pt (+ .json); give every silo the same shared folder. Without it such trials still
        complete, and their result says the model was not saved.
        --data-root (Sweep:DataRoots): the folders specs may read datasets from (real paths, regular files, at most
        Sweep:MaxDatasetBytes each); default: the built-in dataset only with --redis, any file of this user otherwise.
        --tls (Sweep:TlsDirectory): tls.crt, tls.key, ca.crt for mTLS between silos and with clients.
        --http-port (Sweep:Http:Port): serve the HTTP API (/api/sweeps…, /openapi/v1.json) and the dashboard (/) on
        127.0.0.1:P; Sweep:Http:Address picks another address, which needs --tls (HTTPS) and Sweep:ClientToken (bearer).
        Secrets from configuration only: Sweep:ClusterKey (shared by the silos), Sweep:ClientToken (asked of clients).
        Everything can also come from configuration (Sweep__SiloPort, Sweep__Redis, Sweep__Resilience__…).
        SIGTERM drains the silo: running trials are handed back to the cluster, then it leaves.
        Health: GET /healthz/live, /healthz/ready, /healthz/startup on --health-port (default 8080 with --redis, off otherwise; 0 = off).
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var a = new CommandArgs("silo", argv,
            ["redis", "port", "gateway", "primary", "advertise", "name", "slots", "threads", "fuse", "device", "cluster-id", "health-port",
                "models", "data-root", "tls", "http-port"]);
        a.NoMorePositional(0);
        int slots = a.Int("slots", 0), threads = a.Int("threads", 0);
        if (slots < 0) throw new UsageException($"--slots: must be ≥ 0, got {slots}");
        if (threads < 0) throw new UsageException($"--threads: must be ≥ 0, got {threads}");
        int fuse = a.Int("fuse", 4);
        if (fuse is < 1 or > 256) throw new UsageException($"--fuse: must be in [1, 256], got {fuse}");
        string? device = a.String("device");
        string? models = a.String("models");
        if (models is not null)
        {
            if (string.IsNullOrWhiteSpace(models)) throw new UsageException("--models: needs a folder");
            models = Path.GetFullPath(models);
            if (File.Exists(models)) throw new UsageException($"--models: {models}: is a file, not a folder");
        }
        IHost host;
        try
        {
            host = SweepHosts.BuildSilo(o =>
            {
                if (a.String("redis") is { } redis) o.Redis = redis;
                if (a.Has("port"))
                {
                    o.SiloPort = a.Int("port", o.SiloPort);
                    if (!a.Has("gateway")) o.GatewayPort = o.SiloPort == 11111 ? 30000 : o.SiloPort + 18889;
                }
                if (a.Has("gateway")) o.GatewayPort = a.Int("gateway", o.GatewayPort);
                if (a.Has("primary")) o.PrimarySiloPort = a.Int("primary", o.PrimarySiloPort);
                if (a.String("advertise") is { } ip) o.AdvertisedIp = ip;
                if (a.String("name") is { } name) o.SiloName = name;
                if (a.String("cluster-id") is { } cluster) o.ClusterId = cluster;
                if (a.Has("health-port")) o.HealthPort = a.Int("health-port", 0);
                if (a.String("data-root") is { } roots)
                    o.DataRoots = roots.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (a.String("tls") is { } tls) o.TlsDirectory = tls;
            }, o =>
            {
                if (a.Has("slots")) o.Slots = slots;
                if (threads > 0) o.ThreadsPerSlot = threads;
                if (a.Has("fuse")) o.FusionWidth = fuse;
                if (device is not null) o.Device = device;
                if (models is not null) o.ModelsDirectory = models;
            }, o =>
            {
                if (a.Has("http-port")) o.Port = a.Int("http-port", 0);
            });
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        using (host)
        {
            await host.RunAsync(cancellationToken);
        }
        return Environment.ExitCode;   // 0, or why the silo stopped itself (RedisDataWatch.ExitCode)
    }
}
