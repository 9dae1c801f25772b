using System.Diagnostics;
using Orleans.Runtime;
using Sweep.Core;
using Sweep.Core.Models;
using Sweep.Core.Telemetry;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// The "sweep" span: a child of the submitting client's span (propagated by Orleans, or read from the request context
/// when Orleans' own source is not recorded). It lives as long as the sweep on this activation; every trial span is its
/// child through the traceparent the sweep's record keeps, across moves and restarts.
/// </summary>
internal sealed class SweepSpan
{
    private Activity? _span;

    /// <summary>Starts the span; returns its traceparent (null when nobody listens).</summary>
    public string? Start(string sweepId, SweepSpec spec, int trials, string siloName)
    {
        var previous = Activity.Current;
        var parent = previous?.Context ?? SweepTelemetry.Parent(RequestContext.Get("traceparent") as string);
        _span = SweepTelemetry.Source.StartActivity("sweep", ActivityKind.Internal, parent);
        Activity.Current = previous;   // the span lives as long as the sweep, not as long as this call
        if (_span is null) return null;
        _span.SetTag("sweep_id", sweepId);
        _span.SetTag("sweep_name", spec.Name);
        _span.SetTag("model", spec.Base.Model);
        _span.SetTag("strategy", Vocabularies.Strategies.Name(spec.Search.Strategy));
        _span.SetTag("trials", trials);
        _span.SetTag("silo", siloName);
        return _span.Id;
    }

    /// <summary>The sweep finished.</summary>
    public void Finish(int completed, int failed, bool cancelled)
    {
        if (_span is null) return;
        _span.SetTag("completed", completed);
        _span.SetTag("failed", failed);
        _span.SetTag("status", cancelled ? "cancelled" : "completed");
        _span.Stop();
        _span = null;
    }

    /// <summary>The activation ends; the sweep goes on elsewhere, its trials keep this span's trace as their parent.</summary>
    public void Suspend(string reason)
    {
        if (_span is null) return;
        _span.SetTag("suspended", reason);
        _span.Stop();
        _span = null;
    }
}
