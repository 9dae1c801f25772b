using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sweep.Grains;
using Sweep.Grains.Models;
using Sweep.Grains.Search;

namespace Sweep.Client;

/// <summary>Where a <see cref="SweepClient"/> finds its cluster.</summary>
public sealed class SweepClientOptions
{
    /// <summary>Gateway ports of localhost silos (the first silo's is 30000).</summary>
    public IReadOnlyList<int> GatewayPorts { get; set; } = [30000];
    /// <summary>The cluster id the silos were started with.</summary>
    public string ClusterId { get; set; } = "sweep";
    /// <summary>The service id the silos were started with.</summary>
    public string ServiceId { get; set; } = "sweep";
}

/// <summary>
/// The programmatic API of Sweep: submit sweeps to a cluster, follow them, read their fronts and results.
/// Usable from any .NET program: <c>await using var client = await SweepClient.ConnectAsync();</c>
/// </summary>
public sealed class SweepClient : IAsyncDisposable
{
    private readonly IClusterClient _cluster;
    private readonly IHost? _host;

    /// <summary>Wraps a cluster client you already have (a co-hosted silo's, or a test cluster's).</summary>
    public SweepClient(IClusterClient cluster) => _cluster = cluster;

    private SweepClient(IHost host) : this(host.Services.GetRequiredService<IClusterClient>()) => _host = host;

    /// <summary>Connects to a running cluster; throws <see cref="ClusterUnreachableException"/> when none answers.</summary>
    public static async Task<SweepClient> ConnectAsync(SweepClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SweepClientOptions();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseLocalhostClustering(options.GatewayPorts.ToArray(), options.ServiceId, options.ClusterId));
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new ClusterUnreachableException(
                $"cannot reach a Sweep cluster at gateway port(s) {string.Join(", ", options.GatewayPorts)} (start one with: ./sweep silo): {e.Message}", e);
        }
        return new SweepClient(host);
    }

    /// <summary>Reads and validates a spec file; throws <see cref="SpecException"/> naming the field at fault.</summary>
    public static SweepSpec LoadSpec(string path) => SpecParser.Load(path) with { Source = File.ReadAllText(path) };

    /// <summary>A new sweep id: the spec's name, the UTC time and a random suffix.</summary>
    public static string NewSweepId(string name) => $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}";

    /// <summary>
    /// Submits a sweep and returns its id. Trials in <paramref name="completed"/> that match the plan are kept, not re-run.
    /// Submitting the same id again changes nothing.
    /// </summary>
    public async Task<string> SubmitAsync(SweepSpec spec, IEnumerable<TrialResult>? completed = null, string? sweepId = null, CancellationToken cancellationToken = default)
    {
        sweepId ??= NewSweepId(spec.Name);
        cancellationToken.ThrowIfCancellationRequested();
        await Coordinator(sweepId).SubmitAsync(spec, (completed ?? []).ToArray());
        return sweepId;
    }

    /// <summary>The sweep's status; throws <see cref="KeyNotFoundException"/> for an unknown id.</summary>
    public async Task<SweepStatus> GetStatusAsync(string sweepId, CancellationToken cancellationToken = default) =>
        await Coordinator(sweepId).GetStatusAsync() ?? throw NotFound(sweepId);

    /// <summary>Both Pareto fronts with their hypervolumes.</summary>
    public async Task<FrontReport> GetFrontAsync(string sweepId, CancellationToken cancellationToken = default) =>
        await Coordinator(sweepId).GetFrontAsync() ?? throw NotFound(sweepId);

    /// <summary>The sweep's spec as submitted.</summary>
    public async Task<SweepSpec> GetSpecAsync(string sweepId, CancellationToken cancellationToken = default) =>
        await Coordinator(sweepId).GetSpecAsync() ?? throw NotFound(sweepId);

    /// <summary>Finished trials in the order they finished, starting at <paramref name="from"/>.</summary>
    public async Task<IReadOnlyList<TrialResult>> GetResultsAsync(string sweepId, int from = 0, CancellationToken cancellationToken = default)
    {
        var coordinator = Coordinator(sweepId);
        var all = new List<TrialResult>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await coordinator.GetResultsAsync(from + all.Count, 500);
            all.AddRange(page);
            if (page.Count < 500) return all;
        }
    }

    /// <summary>
    /// Status updates until the sweep finishes: one whenever something changed, polled every <paramref name="interval"/>
    /// (default 0.5 s). Polling survives coordinator moves and silo restarts.
    /// </summary>
    public async IAsyncEnumerable<SweepStatus> WatchAsync(string sweepId, TimeSpan? interval = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long seen = -1;
        while (true)
        {
            var status = await GetStatusAsync(sweepId, cancellationToken);
            if (status.Version != seen)
            {
                seen = status.Version;
                yield return status;
            }
            if (status.IsFinished && status.Running == 0) yield break;
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    /// <summary>Stops the sweep's running trials and starts no more (they report themselves cancelled shortly after).</summary>
    public async Task<SweepStatus> CancelAsync(string sweepId, CancellationToken cancellationToken = default) =>
        await Coordinator(sweepId).CancelAsync() ?? throw NotFound(sweepId);

    /// <summary>The sweeps the cluster knows, oldest first.</summary>
    public Task<IReadOnlyList<SweepSummary>> ListAsync(CancellationToken cancellationToken = default) =>
        _cluster.GetGrain<ISweepRegistryGrain>(0).ListAsync();

    public async ValueTask DisposeAsync()
    {
        if (_host is null) return;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _host.StopAsync(stop.Token); } catch (Exception) { /* shutting down anyway */ }
        _host.Dispose();
    }

    private ISweepCoordinatorGrain Coordinator(string sweepId) =>
        _cluster.GetGrain<ISweepCoordinatorGrain>(sweepId ?? throw new ArgumentNullException(nameof(sweepId)));

    private static KeyNotFoundException NotFound(string id) => new($"no sweep '{id}' in this cluster");
}

/// <summary>No silo answered at the configured gateway(s).</summary>
public sealed class ClusterUnreachableException(string message, Exception inner) : Exception(message, inner);
