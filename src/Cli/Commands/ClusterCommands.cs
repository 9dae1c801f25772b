using Sweep.Core.Search;
using Sweep.Core.Data;
using Sweep.Core;
using Sweep.Client;
using Sweep.Silo;
using System.Globalization;
using System.Text.Json;
using Sweep.Cli.Output;
using Sweep.Grains;
using Sweep.Core.Models;

namespace Sweep.Cli.Commands;

/// <summary>The commands that talk to a running cluster: submit, status, watch, front, export, cancel, resume, list, delete.</summary>
public static class ClusterCommands
{
    public const string Help = """
        usage: sweep submit SPEC.json          submit to a running cluster; prints the sweep id
               sweep status ID [--json]        counts, timing and hypervolume of a sweep
               sweep watch ID                  a live progress bar until the sweep finishes
               sweep front ID [--json]         the Pareto fronts (tables, or front.json)
               sweep export ID --out DIR       writes spec.json, trials.jsonl, front.json, front.svg
               sweep cancel ID                 stops the sweep's trials
               sweep resume ID                 wakes a sweep after a cluster restart (any command on it does too)
               sweep list                      the sweeps the cluster knows (state and counts from the registry)
               sweep delete ID                 cancels the sweep if it runs, then removes its results and state
        common: --gateway HOST:PORT[,HOST:PORT…] (or SWEEP_GATEWAY): a cluster's gateways (a name may resolve to several);
                --gateway PORT[,PORT…]: a localhost cluster's (default 30000: the first `sweep silo`); --cluster-id ID;
                --token-file FILE (or SWEEP_TOKEN): the client credential of a cluster that asks for one;
                --tls DIR (or SWEEP_TLS): tls.crt + tls.key of this client and ca.crt of the cluster, for mTLS;
                --redis HOST:PORT (or SWEEP_REDIS): find the gateways through Redis (clusters without a gateway address)
        """;

    private static readonly string[] Common = ["gateway", "cluster-id", "redis", "token-file", "tls"];

    public static async Task<int> RunAsync(string command, IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        string[] values = command == "export" ? [.. Common, "out"] : Common;
        string[] flags = command is "status" or "front" ? ["json"] : [];
        var a = new CommandArgs(command, argv, values, flags);
        int positional = command == "list" ? 0 : 1;
        a.NoMorePositional(positional);

        SweepSpec? spec = null;
        if (command == "submit")
        {
            spec = SweepClient.LoadSpec(a.RequirePositional(0, "a spec file (sweep submit SPEC.json)"));
            // A dataset the trials cannot read is refused here, not trial by trial on the silos. The built-in one
            // lives with the silos (a client needs no data/ folder): only its known shape is checked against the models.
            var plans = SearchSpace.Expand(spec);
            if (spec.Dataset is { Name: not null, Test: null }) SpecData.CheckModels(spec, plans, SpecData.BuiltInInput);
            else SpecData.Check(spec, plans);
        }
        string id = positional == 1 ? a.RequirePositional(0, "a sweep id (see: sweep list)") : "";
        if (command == "export" && a.String("out") is null) throw new UsageException("--out: export needs an output folder");

        await using var client = await SweepClient.ConnectAsync(Options(a), cancellationToken);
        switch (command)
        {
            case "submit":
                Console.WriteLine(await client.SubmitAsync(spec!, cancellationToken: cancellationToken));
                return 0;
            case "status":
            {
                var s = await client.GetStatusAsync(id, cancellationToken);
                Console.WriteLine(a.Has("json") ? JsonSerializer.Serialize(s, SweepJson.Indented) : Describe(s));
                return 0;
            }
            case "watch":
            {
                var progress = new ProgressLine();
                SweepStatus? last = null;
                await foreach (var s in client.WatchAsync(id, cancellationToken: cancellationToken)) { progress.Update(s); last = s; }
                progress.Finish();
                if (last is not null) Console.WriteLine(Describe(last));
                return 0;
            }
            case "front":
            {
                var front = await client.GetFrontAsync(id, cancellationToken);
                Console.Write(a.Has("json") ? JsonSerializer.Serialize(front, SweepJson.Indented) + "\n" : FrontTable.Render(front));
                return 0;
            }
            case "export":
            {
                // Results stream page by page to trials.jsonl: the client holds one page, plus what front.svg draws.
                var dir = new RunDirectory(a.String("out")!);
                var sweepSpec = await client.GetSpecAsync(id, cancellationToken);
                var front = await client.GetFrontAsync(id, cancellationToken);
                dir.WriteSpec(sweepSpec);
                var (count, drawn) = await dir.WriteTrialsAsync(client.ReadResultsAsync(id, 0, cancellationToken));
                dir.WriteFronts(sweepSpec.Name, drawn, front);
                Console.WriteLine($"wrote {count} trial(s) and the fronts to {dir.Path}");
                return 0;
            }
            case "delete":
                await client.DeleteAsync(id, cancellationToken);
                Console.WriteLine($"deleted {id}");
                return 0;
            case "resume":
                Console.WriteLine(Describe(await client.GetStatusAsync(id, cancellationToken)));
                return 0;
            case "cancel":
                Console.WriteLine(Describe(await client.CancelAsync(id, cancellationToken)));
                return 0;
            default:
                var sweeps = await client.ListAsync(cancellationToken);
                if (sweeps.Count == 0) Console.WriteLine("no sweeps");
                foreach (var s in sweeps)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{s.SweepId,-44} {s.State.ToString().ToLowerInvariant(),-10} {s.Done,5}/{s.Total,-5} "
                        + $"created {s.CreatedAt:yyyy-MM-dd HH:mm:ss}Z"));
                }
                return 0;
        }
    }

    public static string Describe(SweepStatus s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.SweepId}: {s.State.ToString().ToLowerInvariant()}, {s.Done}/{s.Total} done " +
        $"({s.Completed} completed, {s.Failed} failed, {s.Cancelled} cancelled{(s.Stopped > 0 ? $", {s.Stopped} stopped" : "")}), " +
        $"{s.Running} running, {s.Pending} pending; hypervolume {s.Hypervolume:F4}, node hypervolume {s.NodeHypervolume:F4}; " +
        $"elapsed {ProgressLine.Duration(s.ElapsedSeconds)}" +
        $"{(s.EtaSeconds is { } e && !s.IsFinished ? $", ETA {ProgressLine.Duration(e)}" : "")}"
        + $"{(s.Reason is { Length: > 0 } why ? "; " + why : "")}");

    public static SweepClientOptions Options(CommandArgs a)
    {
        var options = new SweepClientOptions
        {
            ConfigureServices = (services, configuration) => services.AddSweepTelemetry(configuration, "sweep-client"),
        };
        string? gatewayArg = a.String("gateway");
        if (gatewayArg is not null && gatewayArg.Contains(':'))
        {
            var gateways = gatewayArg.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var part in gateways)
            {
                int colon = part.LastIndexOf(':');
                if (colon <= 0 || !int.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int p)
                    || p is < 1 or > 65535)
                    throw new UsageException($"--gateway: '{part}' is not HOST:PORT");
            }
            options.Gateways = gateways;
        }
        else if (gatewayArg is { } g)
        {
            var ports = new List<int>();
            foreach (var part in g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
                    throw new UsageException($"--gateway: '{part}' is not a TCP port");
                ports.Add(p);
            }
            if (ports.Count == 0) throw new UsageException("--gateway: no port given");
            options.GatewayPorts = ports;
            options.Gateways = [];
        }
        if (a.String("token-file") is { } tokenFile)
        {
            string token;
            try { token = File.ReadAllText(tokenFile).Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--token-file: {tokenFile}: cannot read it ({e.GetType().Name})");
            }
            if (token.Length == 0) throw new UsageException($"--token-file: {tokenFile}: empty");
            options.Token = token;
        }
        if (a.String("tls") is { } tls)
        {
            if (!Directory.Exists(tls)) throw new UsageException($"--tls: {tls}: no such folder");
            options.TlsDirectory = tls;
        }
        if (a.String("cluster-id") is { } c) options.ClusterId = c;
        if (a.String("redis") is { } redis)
        {
            try { _ = StackExchange.Redis.ConfigurationOptions.Parse(redis); }
            // Never echo the string itself: it may hold a password.
            catch (Exception e) { throw new UsageException($"--redis: not a Redis address ({e.Message})"); }
            options.Redis = redis;
        }
        return options;
    }
}
