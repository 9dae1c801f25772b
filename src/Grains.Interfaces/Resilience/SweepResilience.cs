using Sweep.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Polly;
using Polly.Retry;

namespace Sweep.Grains.Resilience;

/// <summary>Retry settings for the places where transient faults happen (section "Sweep:Resilience").</summary>
public sealed class SweepResilienceOptions : IValidatedOptions
{
    public const string Section = "Sweep:Resilience";

    /// <summary>Attempts to connect a client to the cluster, and the first delay between them (doubling).</summary>
    public int ClientConnectAttempts { get; set; } = 5;
    public TimeSpan ClientConnectDelay { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>How long one connection attempt may take (a cluster whose Redis is gone never answers).</summary>
    public TimeSpan ClientConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>Attempts of one client call (a silo restarting, a coordinator moving).</summary>
    public int ClientCallAttempts { get; set; } = 5;
    public TimeSpan ClientCallDelay { get; set; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Attempts of one grain-state write (Redis briefly away).</summary>
    public int StorageWriteAttempts { get; set; } = 5;
    public TimeSpan StorageWriteDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Delay before a failed trial's next attempt (doubling, with jitter, up to the maximum).</summary>
    public TimeSpan TrialRetryDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan TrialRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Null when valid, else the first problem, naming the setting.</summary>
    public string? Validate()
    {
        if (ClientConnectAttempts < 1) return $"{Section}:ClientConnectAttempts must be ≥ 1";
        if (ClientConnectTimeout <= TimeSpan.Zero) return $"{Section}:ClientConnectTimeout must be positive";
        if (ClientCallAttempts < 1) return $"{Section}:ClientCallAttempts must be ≥ 1";
        if (StorageWriteAttempts < 1) return $"{Section}:StorageWriteAttempts must be ≥ 1";
        if (ClientConnectDelay < TimeSpan.Zero || ClientCallDelay < TimeSpan.Zero || StorageWriteDelay < TimeSpan.Zero
            || TrialRetryDelay < TimeSpan.Zero)
            return $"{Section}: delays must not be negative";
        if (TrialRetryMaxDelay < TrialRetryDelay) return $"{Section}:TrialRetryMaxDelay must be ≥ TrialRetryDelay";
        return null;
    }
}

/// <summary>
/// The resilience pipelines, built once from <see cref="SweepResilienceOptions"/>. Each retry is logged once with its cause.
/// </summary>
public sealed class SweepResilience
{
    private readonly SweepResilienceOptions _options;
    private readonly ILogger _logger;

    public SweepResilience(IOptions<SweepResilienceOptions> options, ILogger<SweepResilience>? logger = null)
    {
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        ClientConnect = Retry("client connect", _options.ClientConnectAttempts, _options.ClientConnectDelay, IsTransient);
        ClientCall = Retry("client call", _options.ClientCallAttempts, _options.ClientCallDelay, IsTransient);
        StorageWrite = Retry("storage write", _options.StorageWriteAttempts, _options.StorageWriteDelay, IsTransientStorage);
    }

    public SweepResilienceOptions Options => _options;

    /// <summary>Connecting a client while silos start or restart.</summary>
    public ResiliencePipeline ClientConnect { get; }

    /// <summary>A client's grain call while a silo dies or a coordinator moves.</summary>
    public ResiliencePipeline ClientCall { get; }

    /// <summary>A grain-state write while the storage is briefly unreachable.</summary>
    public ResiliencePipeline StorageWrite { get; }

    /// <summary>
    /// A trial's attempts: up to <paramref name="maxAttempts"/>, exponential backoff with jitter between them, retrying only
    /// what <paramref name="shouldRetry"/> accepts (deterministic failures are not retried).
    /// </summary>
    public ResiliencePipeline TrialAttempts(int maxAttempts, Func<Exception, bool> shouldRetry, string trialId) =>
        maxAttempts <= 1 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = maxAttempts - 1,
            Delay = _options.TrialRetryDelay,
            MaxDelay = _options.TrialRetryMaxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder().Handle(shouldRetry),
            OnRetry = args =>
            {
                Sweep.Core.Telemetry.SweepTelemetry.TrialsRetried.Add(1);
                _logger.LogWarning("Trial {Trial}: attempt {Attempt} failed ({Cause}); retrying in {Delay:0.0} s",
                    trialId, args.AttemptNumber + 1, Describe(args.Outcome.Exception), args.RetryDelay.TotalSeconds);
                return default;
            },
        }).Build();

    private ResiliencePipeline Retry(string what, int attempts, TimeSpan delay, Func<Exception, bool> transient) =>
        attempts <= 1 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = attempts - 1,
            Delay = delay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder().Handle(transient),
            OnRetry = args =>
            {
                _logger.LogWarning("{What} failed ({Cause}); retry {Retry} of {Max} in {Delay:0.0} s",
                    what, Describe(args.Outcome.Exception), args.AttemptNumber + 1, attempts - 1, args.RetryDelay.TotalSeconds);
                return default;
            },
        }).Build();

    /// <summary>Faults that go away by themselves: silos dying or restarting, connections dropping, calls timing out.</summary>
    public static bool IsTransient(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException
        or TimeoutException or OrleansException { InnerException: TimeoutException }
        || e.GetType().Name is "GatewayTooBusyException" or "ClusterClientConnectException" or "ConnectionFailedException"
        || e.InnerException is { } inner && IsTransient(inner);

    private static bool IsTransientStorage(Exception e) =>
        e is TimeoutException || e.GetType().Namespace?.StartsWith("StackExchange.Redis", StringComparison.Ordinal) == true
        || e.InnerException is { } inner && IsTransientStorage(inner);

    private static string Describe(Exception? e) => e is null ? "no exception" : $"{e.GetType().Name}: {FirstLine(e.Message)}";

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();
}

/// <summary>Running pipelines inside grains.</summary>
public static class GrainPipelines
{
    /// <summary>
    /// Executes on the caller's context: Polly continues on the thread pool unless told otherwise, and grain state
    /// may only be touched on the grain's own turn.
    /// </summary>
    public static async Task<T> RunOnGrainAsync<T>(
        this ResiliencePipeline pipeline, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken: cancellationToken);
        try
        {
            return await pipeline.ExecuteAsync(async (ctx, a) => await a(ctx.CancellationToken), context, action);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public static Task RunOnGrainAsync(
        this ResiliencePipeline pipeline, Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        pipeline.RunOnGrainAsync(async ct => { await action(ct); return true; }, cancellationToken);
}
