using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sweep.Core.Models;
using Sweep.Core.Search;

namespace Sweep.Core.Telemetry;

/// <summary>
/// Sweep's traces and metrics. Spans: "sweep" (a coordinator's life of a sweep) → "trial" (one per attempt, on the silo
/// that ran it) → "epoch". Trial and epoch spans take their parent explicitly (a W3C traceparent carried in the trial
/// request), so one trace holds a sweep's trials wherever and whenever they run.
/// </summary>
public static class SweepTelemetry
{
    /// <summary>The name of Sweep's ActivitySource and Meter.</summary>
    public const string Name = "Sweep";

    public static readonly ActivitySource Source = new(Name, "1.0");
    public static readonly Meter Meter = new(Name, "1.0");

    public static readonly Counter<long> TrialsStarted =
        Meter.CreateCounter<long>("sweep.trials.started", "{trial}", "Trial attempts started");
    public static readonly Counter<long> TrialsCompleted =
        Meter.CreateCounter<long>("sweep.trials.completed", "{trial}", "Trials that completed");
    public static readonly Counter<long> TrialsFailed =
        Meter.CreateCounter<long>("sweep.trials.failed", "{trial}", "Trials that ended failed");
    public static readonly Counter<long> TrialsRetried =
        Meter.CreateCounter<long>("sweep.trials.retried", "{trial}", "Trial attempts retried after a failure");
    public static readonly Counter<long> TrialsRestarted =
        Meter.CreateCounter<long>("sweep.trials.restarted", "{trial}", "Trials started again because their silo was declared dead");
    public static readonly Counter<long> TrialsCancelled =
        Meter.CreateCounter<long>("sweep.trials.cancelled", "{trial}", "Trials cancelled");
    public static readonly Counter<long> TrialsStopped =
        Meter.CreateCounter<long>("sweep.trials.stopped", "{trial}", "Trials early stopping stopped at a rung");
    public static readonly Histogram<double> EpochDuration =
        Meter.CreateHistogram<double>("sweep.epoch.duration", "s", "Seconds per training epoch");
    public static readonly UpDownCounter<long> TrialsInFlight =
        Meter.CreateUpDownCounter<long>("sweep.trials.in_flight", "{trial}", "Trials training now");

    /// <summary>The parent context a traceparent string names, or default when there is none.</summary>
    public static ActivityContext Parent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;

    public static void TagParameters(Activity activity, TrialParameters p)
    {
        foreach (var parameter in TrialParameterTable.All)
            if (parameter.TelemetryTag is { } tag) activity.SetTag(tag, parameter.Value(p));
    }

    /// <summary>An epoch span, recorded after the fact from the epoch's measured duration.</summary>
    public static void RecordEpoch(ActivityContext trial, EpochRecord e, string device, string silo)
    {
        EpochDuration.Record(e.Seconds, new KeyValuePair<string, object?>("device", device));
        if (trial == default) return;
        var end = DateTimeOffset.UtcNow;
        using var span = Source.StartActivity("epoch", ActivityKind.Internal, trial, startTime: end - TimeSpan.FromSeconds(e.Seconds));
        if (span is null) return;
        span.SetTag("epoch", e.Epoch);
        span.SetTag("loss", e.Loss);
        span.SetTag("accuracy", e.Accuracy);
        span.SetTag("weight_sparsity", e.WeightSparsity);
        span.SetTag("node_sparsity", e.NodeSparsity);
        span.SetTag("device", device);
        span.SetTag("silo", silo);
        span.SetEndTime(end.UtcDateTime);
    }
}
