using Sweep.Core.Data;
using Sweep.Core.Sweeps;
using Sweep.Core;
using Sweep.Client;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sweep.Cli.Output;
using Sweep.Grains;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Silo;

namespace Sweep.Cli.Commands;

/// <summary>`sweep run SPEC`: the embedded default — an in-process silo and client run the whole sweep.</summary>
public static class RunCommand
{
    public const string Help = """
        usage: sweep run SPEC.json [--out DIR] [--json] [--slots N] [--threads N] [--fuse N] [--device auto|cpu|cuda] [--dashboard]
                                [--ui] [--ui-port P]
        Runs the whole sweep in this process (an embedded silo and client) with a live progress bar, and writes DIR
        (default runs/<name>): spec.json, trials.jsonl, front.json, front.svg, and with "saveModels": true in the spec
        models/<trialId>.pt (+ .json) per trial (see sweep compact). Running again with the same DIR keeps
        the completed trials and runs only the rest. --json prints front.json to stdout instead of the tables.
        --slots: training slots (default: one per core); --threads: threads per slot (default: cores / slots);
        --fuse: up to N compatible trials train together in one slot as one batched model (default 4; 1: off).
        --dashboard: start the Aspire dashboard (if not running) and send the sweep's traces and metrics to it.
        --ui: serve the live dashboard and the HTTP API on 127.0.0.1 (a free port, or --ui-port P) and print its URL;
        when the sweep ends the page stays up until Ctrl+C.
        Telemetry otherwise goes wherever OTEL_EXPORTER_OTLP_ENDPOINT points (nothing is exported when it is unset).
        """;

    /// <summary>Stops the embedded silo once the run has said why it ends: its complaints while it stops stay off the terminal.</summary>
    private static async Task StopQuietlyAsync(IHost host)
    {
        host.Services.GetService<TerminalLog>()?.Mute();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await host.StopAsync(stop.Token); }
        catch (OperationCanceledException) { }
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var a = new CommandArgs("run", argv, ["out", "slots", "threads", "device", "fuse", "ui-port"], ["json", "dashboard", "ui"]);
        string specPath = a.RequirePositional(0, "a spec file (sweep run SPEC.json)");
        a.NoMorePositional(1);
        int? slots = a.Has("slots") ? a.Int("slots", 0) : null;
        int threads = a.Int("threads", 0);
        if (slots < 1) throw new UsageException($"--slots: must be ≥ 1, got {slots}");
        if (threads < 0) throw new UsageException($"--threads: must be ≥ 0, got {threads}");
        int? fuse = a.Has("fuse") ? a.Int("fuse", 0) : null;
        if (fuse is < 1 or > 256) throw new UsageException($"--fuse: must be in [1, 256], got {fuse}");
        string device = a.String("device", "auto");
        bool json = a.Has("json");
        bool ui = a.Has("ui") || a.Has("ui-port");
        int uiPort = a.Int("ui-port", 0);
        if (uiPort is < 0 or > 65535) throw new UsageException($"--ui-port: must be a TCP port (0–65535), got {uiPort}");

        var spec = SweepClient.LoadSpec(specPath);
        var plans = SearchSpace.Expand(spec);
        // A dataset the trials cannot read is refused before anything starts (exit 2, naming the file).
        SpecData.Check(spec, plans);
        var dir = new RunDirectory(a.String("out") ?? Path.Combine("runs", spec.Name));
        // One run per folder: a second exits 2 naming the holder; the lock goes with this process.
        using var folderLock = RunLock.Take(dir.Path);
        // Completed, valid results of this plan are kept; every other result in the folder is set aside, never deleted.
        var (resume, sweepId) = dir.Resume(spec, plans, SweepClient.NewSweepId(spec.Name),
            Path.GetDirectoryName(Path.GetFullPath(specPath)), Console.Error);
        var kept = resume.Kept.Select(r => r with { SweepId = sweepId }).ToList();
        if (kept.Count > 0)
            Console.Error.WriteLine(
                $"sweep: {dir.Path}: keeping {kept.Count} completed trial(s), running the other {plans.Count - kept.Count}");

        if (a.Has("dashboard"))
        {
            var started = DashboardCommand.EnsureRunning();
            Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");
            Console.Error.WriteLine(
                $"sweep: traces and metrics go to the dashboard at http://127.0.0.1:18888"
                + $"{(started is null ? "" : $" (started, pid {started.Id}; it keeps running)")}");
        }
        // Load libtorch and the data on the other core while the silo starts (bench/RESULTS.md has the saving).
        if (device != "cuda" && plans.Count > kept.Count)
            _ = Task.Run(() => Sweep.Training.Fusion.FusedTraining.Prepare(
                new Sweep.Training.TrialSettings(plans[0].Params, spec.Dataset, spec.TrainLimit)));
        using var host = await SweepHosts.StartEmbeddedAsync(o =>
        {
            o.Slots = slots;
            o.ThreadsPerSlot = threads;
            o.Device = device;
            if (fuse is int f) o.FusionWidth = f;
            o.ModelsDirectory = dir.ModelsPath;
            o.ModelsPerSweep = false;
            o.FlatSweepId = sweepId;   // an API sweep's models go to models/ID/, never over the run's
        }, cancellationToken, resultsFile: id => dir.ResultsFile(id, sweepId),   // the run's own: DIR/trials.jsonl itself
            http: ui ? new SweepHttpOptions { Port = uiPort } : null);
        if (host.Services.GetService<SweepHttpService>()?.Url is { } url)
            Console.Error.WriteLine($"sweep: dashboard at {url}#/sweep/{Uri.EscapeDataString(sweepId)} (API at {url}api/sweeps)");
        await using var client = new SweepClient(host.Services.GetRequiredService<IClusterClient>());
        // nsga2 proposes most of its trials later: the earlier run's other completed results are offered for those too.
        IReadOnlyList<TrialResult> offered = spec.Search.Strategy == SearchStrategy.Nsga2
            ? [.. kept, .. resume.Offered.Select(r => r with { SweepId = sweepId })]
            : kept;
        await client.SubmitAsync(spec, offered, sweepId, CancellationToken.None);
        var progress = new ProgressLine();
        bool interrupted = false;
        var store = host.Services.GetService<Sweep.Grains.Results.ISweepResultStore>() as Sweep.Grains.Results.FileResultStore;
        SweepStatus status;
        while (true)
        {
            if (store?.Fault is { } fault)
            {
                // A full disk or a read-only folder: nothing more can be stored, so the run ends now, its stored lines intact.
                progress.Finish();
                string cause = fault.Cause.Replace($" : '{fault.Path}'", "", StringComparison.Ordinal);
                Console.Error.WriteLine($"sweep: error: {fault.Path}: {cause}; the results stored before are intact");
                await StopQuietlyAsync(host);
                return 1;
            }
            if (cancellationToken.IsCancellationRequested && !interrupted)
            {
                // Ctrl+C: stop the trials; what finished is in trials.jsonl already.
                interrupted = true;
                await client.CancelAsync(sweepId, CancellationToken.None);
            }
            status = await client.GetStatusAsync(sweepId, CancellationToken.None);
            progress.Update(status);
            // A cancelled sweep is finished at once, but its running trials still report; wait for them.
            if (status.IsFinished && status.Running == 0) break;
            await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);   // in-process calls: cheap
        }
        progress.Finish();

        var front = await client.GetFrontAsync(sweepId, CancellationToken.None);
        try { dir.WriteFronts(spec.Name, dir.ReadTrials(forPlot: true), front); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await StopQuietlyAsync(host);   // the error's one line is Program's to print
            throw;
        }
        if (ui && !interrupted)
        {
            Console.Error.WriteLine("sweep: finished; the dashboard stays up until Ctrl+C");
            try { await Task.Delay(Timeout.Infinite, cancellationToken); }
            catch (OperationCanceledException) { }
        }
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10))) await host.StopAsync(stop.Token);

        if (json) Console.WriteLine(JsonSerializer.Serialize(front, SweepJson.Indented));
        else
        {
            Console.Write(FrontTable.Render(front));
            Console.WriteLine(
                $"{status.Completed} completed, {status.Failed} failed, {status.Cancelled} cancelled"
                + $"{(status.Stopped > 0 ? $", {status.Stopped} stopped early" : "")} of {status.Total} trials "
                + $"in {ProgressLine.Duration(status.ElapsedSeconds)}; wrote {dir.Path}");
        }
        return interrupted ? 130 : 0;
    }
}
