using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using Orleans.Connections.Security;
using Sweep.Grains.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Core.Telemetry;
using Sweep.Grains;
using Sweep.Grains.Resilience;

namespace Sweep.Client;

/// <summary>Where a <see cref="SweepClient"/> finds its cluster.</summary>
public sealed class SweepClientOptions
{
    /// <summary>Gateway ports of localhost silos (the first silo's is 30000), used when <see cref="Gateways"/> is empty.</summary>
    public IReadOnlyList<int> GatewayPorts { get; set; } = [30000];
    /// <summary>
    /// Gateways of a cluster as "host:port" (a name resolving to several addresses, such as a headless Kubernetes Service,
    /// yields each of them); default: SWEEP_GATEWAY (comma-separated). Takes precedence over <see cref="Redis"/>.
    /// </summary>
    public IReadOnlyList<string> Gateways { get; set; } = Environment.GetEnvironmentVariable("SWEEP_GATEWAY") is { Length: > 0 } g
        ? g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        : [];
    /// <summary>The client credential the silos ask for (their Sweep:ClientToken); default: SWEEP_TOKEN.</summary>
    public string? Token { get; set; } = Environment.GetEnvironmentVariable("SWEEP_TOKEN") is { Length: > 0 } t ? t : null;
    /// <summary>
    /// A folder with this client's certificate (tls.crt, tls.key) and the cluster's authority (ca.crt) for mTLS to the
    /// gateways; default: SWEEP_TLS. Null: plain TCP.
    /// </summary>
    public string? TlsDirectory { get; set; } = Environment.GetEnvironmentVariable("SWEEP_TLS") is { Length: > 0 } d ? d : null;
    /// <summary>The cluster id the silos were started with.</summary>
    public string ClusterId { get; set; } = "sweep";
    /// <summary>The service id the silos were started with.</summary>
    public string ServiceId { get; set; } = "sweep";
    /// <summary>
    /// Redis of a Redis-clustered deployment ("host:port" or a StackExchange.Redis configuration string); null = localhost gateways.
    /// </summary>
    public string? Redis { get; set; } = Environment.GetEnvironmentVariable("SWEEP_REDIS") is { Length: > 0 } r ? r : null;
    /// <summary>Retries of connecting and of each call.</summary>
    public SweepResilienceOptions Resilience { get; set; } = new();
    /// <summary>
    /// Adds services to the client's host, e.g. an OpenTelemetry exporter for the client's "submit" spans (the library
    /// records them on the ActivitySource "Sweep" and exports nothing by itself).
    /// </summary>
    public Action<IServiceCollection, IConfiguration>? ConfigureServices { get; set; }
}

/// <summary>
/// The programmatic API of Sweep: submit sweeps to a cluster, follow them, read their fronts and results.
/// Usable from any .NET program: <c>await using var client = await SweepClient.ConnectAsync();</c>
/// </summary>
public sealed class SweepClient : IAsyncDisposable
{
    private readonly IClusterClient _cluster;
    private readonly IHost? _host;
    private readonly ResiliencePipeline _calls;

    /// <summary>Wraps a cluster client you already have (a co-hosted silo's, or a test cluster's).</summary>
    public SweepClient(IClusterClient cluster, SweepResilienceOptions? resilience = null)
    {
        _cluster = cluster;
        _calls = new SweepResilience(Options.Create(resilience ?? new SweepResilienceOptions())).ClientCall;
    }

    /// <summary>The Orleans client underneath, for calls beyond this API (the silos decide what a client may call).</summary>
    public IClusterClient Cluster => _cluster;

    private SweepClient(IHost host, SweepResilienceOptions resilience)
        : this(host.Services.GetRequiredService<IClusterClient>(), resilience) => _host = host;

    /// <summary>
    /// Connects to a running cluster, retrying while silos start (Resilience.ClientConnectAttempts); throws
    /// <see cref="ClusterUnreachableException"/> when none answers.
    /// </summary>
    public static async Task<SweepClient> ConnectAsync(SweepClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SweepClientOptions();
        if (options.Resilience.Validate() is { } problem) throw new ArgumentException(problem);
        var gateways = options.Gateways.Select(ParseGateway).ToArray();
        string where = gateways.Length > 0 ? $"gateway(s) {string.Join(", ", options.Gateways)}"
            : options.Redis is null ? $"gateway port(s) {string.Join(", ", options.GatewayPorts)}"
            : $"Redis {string.Join(",", StackExchange.Redis.ConfigurationOptions.Parse(options.Redis).EndPoints)}";
        var tls = options.TlsDirectory is { } dir ? SweepTls.Load(dir, "SWEEP_TLS") : null;
        var connect = new SweepResilience(Options.Create(options.Resilience)).ClientConnect;
        var refusals = new ConnectionRefusals(tls is not null);
        try
        {
            var host = await connect.ExecuteAsync(async ct =>
            {
                // A client host that failed to start cannot be started again: each attempt builds a fresh one.
                var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(refusals);
                builder.Configuration.AddEnvironmentVariables();
                builder.Services.AddSingleton<IClientConnectionRetryFilter>(refusals);
                options.ConfigureServices?.Invoke(builder.Services, builder.Configuration);
                builder.UseOrleansClient(client =>
                {
                    client.AddActivityPropagation();
                    if (options.Token is { } token)
                        client.AddOutgoingGrainCallFilter(async call =>
                        {
                            Orleans.Runtime.RequestContext.Set(SweepCredentials.ClientToken, token);
                            try { await call.Invoke(); }
                            finally { Orleans.Runtime.RequestContext.Remove(SweepCredentials.ClientToken); }
                        });
                    if (tls is not null)
                        client.UseTls(tls.Certificate, t =>
                        {
                            t.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
                            // The callback decides alone: the gateway's certificate must chain to the cluster's authority.
                            t.RemoteCertificateValidation = (certificate, _, _) => tls.Trusts(certificate);
                        });
                    if (gateways.Length > 0)
                    {
                        client.Configure<Orleans.Configuration.ClusterOptions>(c =>
                        {
                            c.ClusterId = options.ClusterId;
                            c.ServiceId = options.ServiceId;
                        });
                        client.UseStaticClustering(Resolve(gateways));
                    }
                    else if (options.Redis is null)
                        client.UseLocalhostClustering(options.GatewayPorts.ToArray(), options.ServiceId, options.ClusterId);
                    else
                    {
                        client.Configure<Orleans.Configuration.ClusterOptions>(c =>
                        {
                            c.ClusterId = options.ClusterId;
                            c.ServiceId = options.ServiceId;
                        });
                        client.UseRedisClustering(r =>
                        {
                            r.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(options.Redis);
                            r.ConfigurationOptions.AbortOnConnectFail = false;
                        });
                    }
                });
                var h = builder.Build();
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(options.Resilience.ClientConnectTimeout);
                try
                {
                    await h.StartAsync(attempt.Token);
                    return h;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    h.Dispose();
                    throw new TimeoutException($"no answer within {options.Resilience.ClientConnectTimeout.TotalSeconds:0} s");
                }
                catch (Exception) when (refusals.Refusal is { } refusal)
                {
                    h.Dispose();
                    throw new ConnectionRefusedException(refusal);
                }
                catch
                {
                    h.Dispose();
                    throw;
                }
            }, cancellationToken);
            return new SweepClient(host, options.Resilience);
        }
        catch (ConnectionRefusedException e)
        {
            throw new ClusterUnreachableException($"the cluster at {where} refused this client: {e.Message}", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ClusterUnreachableException(
                $"cannot reach a Sweep cluster at {where} (start one with: ./sweep silo): {FirstLine(e.Message)}", e);
        }
    }

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    private static (string Host, int Port) ParseGateway(string gateway)
    {
        int colon = gateway.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(gateway.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new ArgumentException($"gateway '{gateway}': expected host:port");
        return (gateway[..colon].Trim('[', ']'), port);
    }

    private static IPEndPoint[] Resolve((string Host, int Port)[] gateways)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var (host, port) in gateways)
        {
            // A headless Service's name resolves to every silo pod: each becomes a gateway of its own.
            var addresses = IPAddress.TryParse(host, out var ip) ? [ip] : Dns.GetHostAddresses(host);
            endpoints.AddRange(addresses.Select(a => new IPEndPoint(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a, port)));
        }
        return [.. endpoints.Distinct()];
    }

    /// <summary>Reads and validates a spec file; throws <see cref="SpecException"/> naming the field at fault.</summary>
    public static SweepSpec LoadSpec(string path) => SpecParser.Load(path);

    /// <summary>A new sweep id: the spec's name, the UTC time and a random suffix.</summary>
    public static string NewSweepId(string name) => $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}";

    /// <summary>
    /// Submits a sweep and returns its id. Trials in <paramref name="completed"/> that match the plan are kept, not re-run.
    /// Submitting the same id again changes nothing.
    /// </summary>
    public async Task<string> SubmitAsync(
        SweepSpec spec, IEnumerable<TrialResult>? completed = null, string? sweepId = null, CancellationToken cancellationToken = default)
    {
        sweepId ??= NewSweepId(spec.Name);
        cancellationToken.ThrowIfCancellationRequested();
        var done = (completed ?? []).ToArray();
        // The client's span is the root of the sweep's trace; Orleans carries its context to the coordinator.
        using var span = SweepTelemetry.Source.StartActivity("submit", System.Diagnostics.ActivityKind.Client);
        span?.SetTag("sweep_id", sweepId);
        span?.SetTag("sweep_name", spec.Name);
        // Orleans only injects a context when its own source is recorded; carry ours explicitly either way.
        if (span is not null) Orleans.Runtime.RequestContext.Set("traceparent", span.Id!);
        try
        {
            await _calls.ExecuteAsync(async _ => await Coordinator(sweepId).SubmitAsync(spec, done), cancellationToken);
        }
        catch (SweepRefusedException e)
        {
            // The silo's own check of the spec: the same kind of answer as the client's (field, reason, exit code 2).
            throw new SpecException(e.Field, e.Reason);
        }
        finally
        {
            if (span is not null) Orleans.Runtime.RequestContext.Remove("traceparent");
        }
        return sweepId;
    }

    /// <summary>The sweep's status; throws <see cref="KeyNotFoundException"/> for an unknown id.</summary>
    public async Task<SweepStatus> GetStatusAsync(string sweepId, CancellationToken cancellationToken = default) =>
        await Call(c => c.GetStatusAsync(), sweepId, cancellationToken) ?? throw NotFound(sweepId);

    /// <summary>Both Pareto fronts with their hypervolumes.</summary>
    public async Task<FrontReport> GetFrontAsync(string sweepId, CancellationToken cancellationToken = default) =>
        await Call(c => c.GetFrontAsync(), sweepId, cancellationToken) ?? throw NotFound(sweepId);

    /// <summary>The sweep's spec as submitted.</summary>
    public async Task<SweepSpec> GetSpecAsync(string sweepId, CancellationToken cancellationToken = default) =>
        await Call(c => c.GetSpecAsync(), sweepId, cancellationToken) ?? throw NotFound(sweepId);

    /// <summary>
    /// Finished trials in the order they were stored, starting at <paramref name="from"/>, collected into one list. For a
    /// large sweep prefer <see cref="ReadResultsAsync"/>, which holds one page at a time.
    /// </summary>
    public async Task<IReadOnlyList<TrialResult>> GetResultsAsync(
        string sweepId, long from = 0, CancellationToken cancellationToken = default)
    {
        var all = new List<TrialResult>();
        await foreach (var r in ReadResultsAsync(sweepId, from, cancellationToken)) all.Add(r);
        return all;
    }

    /// <summary>
    /// One page of finished trials in the order they were stored: at most <paramref name="max"/> (≤ 1000) from position
    /// <paramref name="from"/>; empty past the end.
    /// </summary>
    public async Task<IReadOnlyList<TrialResult>> GetResultsPageAsync(
        string sweepId, long from, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return await Call(c => c.GetResultsAsync(from, Math.Min(max, 1000)), sweepId, cancellationToken);
    }

    /// <summary>Finished trials in the order they were stored, from <paramref name="from"/>, read page by page.</summary>
    public async IAsyncEnumerable<TrialResult> ReadResultsAsync(string sweepId, long from = 0,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        const int page = 1000;
        long at = from;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long start = at;
            var results = await Call(c => c.GetResultsAsync(start, page), sweepId, cancellationToken);
            foreach (var r in results) yield return r;
            at += results.Count;
            if (results.Count < page) yield break;
        }
    }

    /// <summary>The trials in flight with their latest epoch and silo, in plan order.</summary>
    public async Task<IReadOnlyList<TrialProgress>> GetRunningAsync(string sweepId, CancellationToken cancellationToken = default)
    {
        var all = new List<TrialProgress>();
        while (true)
        {
            int start = all.Count;
            var page = await Call(c => c.GetRunningAsync(start, 1000), sweepId, cancellationToken);
            all.AddRange(page);
            if (page.Count < 1000) return all;
        }
    }

    /// <summary>
    /// Cancels the sweep if it runs and removes its results and state; throws <see cref="KeyNotFoundException"/> for an
    /// unknown id.
    /// </summary>
    public async Task DeleteAsync(string sweepId, CancellationToken cancellationToken = default)
    {
        if (!await Call(c => c.DeleteAsync(), sweepId, cancellationToken)) throw NotFound(sweepId);
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
        await Call(c => c.CancelAsync(), sweepId, cancellationToken) ?? throw NotFound(sweepId);

    /// <summary>The sweeps the cluster knows, oldest first, with state and counts as of their last report (within 10 s).</summary>
    public async Task<IReadOnlyList<SweepSummary>> ListAsync(CancellationToken cancellationToken = default) =>
        await _calls.ExecuteAsync(async _ => await _cluster.GetGrain<ISweepRegistryGrain>(0).ListAsync(), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_host is null) return;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _host.StopAsync(stop.Token); } catch (Exception) { /* shutting down anyway */ }
        _host.Dispose();
    }

    private async Task<T> Call<T>(Func<ISweepCoordinatorGrain, Task<T>> call, string sweepId, CancellationToken cancellationToken)
    {
        var coordinator = Coordinator(sweepId);
        return await _calls.ExecuteAsync(async _ => await call(coordinator), cancellationToken);
    }

    private ISweepCoordinatorGrain Coordinator(string sweepId) =>
        _cluster.GetGrain<ISweepCoordinatorGrain>(sweepId ?? throw new ArgumentNullException(nameof(sweepId)));

    private static KeyNotFoundException NotFound(string id) => new($"no sweep '{id}' in this cluster");
}

/// <summary>No silo answered at the configured gateway(s), or the gateways refused this client (TLS).</summary>
public sealed class ClusterUnreachableException(string message, Exception inner) : Exception(message, inner);

/// <summary>A connection the gateway refused for good (a TLS handshake that failed): not worth retrying.</summary>
internal sealed class ConnectionRefusedException(string message) : Exception(message);

/// <summary>
/// Watches one client host's connection attempts: a TLS handshake that failed (logged by Orleans' TLS middleware, the
/// only place that says why) is kept as the refusal, and ends the attempts at once; other failures wait a second and
/// try again (the caller's timeout and retries bound them).
/// </summary>
internal sealed class ConnectionRefusals(bool tls) : TlsFailureListener, IClientConnectionRetryFilter
{
    private int _closedEarly;

    public string? Refusal { get; private set; }

    protected override bool Listens(string category) => category.Contains("Tls", StringComparison.Ordinal);

    protected override void Failed(string reason)
    {
        // Only a certificate refused is a verdict; a handshake that timed out or was cut may be a busy gateway.
        if (!reason.Contains("certificate", StringComparison.OrdinalIgnoreCase)) return;
        Refusal ??= $"TLS handshake failed ({reason}); check SWEEP_TLS: a certificate and ca.crt of this cluster's authority";
    }

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        // A gateway that is down refuses the connection; one that is starting answers Orleans' preamble. A gateway that
        // accepts and then closes at once, three times running, is refusing this client's transport: a plain-TCP client
        // at a TLS gateway (no TLS hello), or a certificate the gateway does not trust (closed after the handshake).
        var inner = exception;
        while (inner.InnerException is not null) inner = inner.InnerException;
        bool closedEarly = inner is Microsoft.AspNetCore.Connections.ConnectionAbortedException or IOException
            or System.Security.Authentication.AuthenticationException
            || inner is InvalidOperationException { Message: "Connection terminated prematurely" };
        _closedEarly = closedEarly ? _closedEarly + 1 : 0;
        if (_closedEarly >= 3)
            Refusal ??= tls
                ? "every gateway closed the connection right after the TLS handshake: it does not accept this client's "
                    + "certificate; give this client one of the cluster's authority (--tls DIR or SWEEP_TLS)"
                : "every gateway closed the connection before the Orleans handshake: the cluster likely requires TLS; "
                    + "give this client a certificate of its authority (--tls DIR or SWEEP_TLS)";
        if (Refusal is not null) return false;
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return true;
    }
}
