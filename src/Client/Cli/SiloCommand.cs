using Microsoft.Extensions.Hosting;
using Sweep.Silo;

namespace Sweep.Client.Cli;

/// <summary>`sweep silo`: a long-running silo of a localhost cluster (Ctrl+C or SIGTERM stops it).</summary>
public static class SiloCommand
{
    public const string Help = """
        usage: sweep silo [--port P] [--gateway G] [--primary P] [--slots N] [--threads N] [--device auto|cpu|cuda] [--cluster-id ID]
        A silo of a localhost cluster. The first silo uses the defaults (port 11111, gateway 30000); start more with
        other ports, e.g. `sweep silo --port 11112 --gateway 30001`: they join the primary at --primary (default 11111).
        --slots: trials trained at once (default: one per GPU, or one per core); --threads: threads per trial.
        Configuration also comes from appsettings.json and Sweep__* environment variables.
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var a = new CommandArgs("silo", argv, ["port", "gateway", "primary", "slots", "threads", "device", "cluster-id"]);
        a.NoMorePositional(0);
        int port = a.Int("port", 11111);
        var options = new SweepSiloOptions
        {
            SiloPort = port,
            GatewayPort = a.Int("gateway", port == 11111 ? 30000 : port + 18889),
            PrimarySiloPort = a.Int("primary", 11111),
            ClusterId = a.String("cluster-id", "sweep"),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        int slots = a.Int("slots", 0), threads = a.Int("threads", 0);
        if (slots < 0) throw new UsageException($"--slots: must be ≥ 0, got {slots}");
        if (threads < 0) throw new UsageException($"--threads: must be ≥ 0, got {threads}");
        string? device = a.String("device");
        using var host = SweepHosts.BuildSilo(options, o =>
        {
            if (slots > 0) o.Slots = slots;
            if (threads > 0) o.ThreadsPerSlot = threads;
            if (device is not null) o.Device = device;
        });
        Console.Error.WriteLine($"sweep: silo on 127.0.0.1:{options.SiloPort}, gateway {options.GatewayPort}, cluster '{options.ClusterId}'; Ctrl+C stops it");
        await host.RunAsync(cancellationToken);
        return 0;
    }
}
