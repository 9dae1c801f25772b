using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Sweep.Client;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Core.Telemetry;
using Xunit;

namespace Sweep.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class TelemetryTests(ClusterFixture fixture)
{
    private static SweepSpec Spec(string name, string space, int epochs) => SpecParser.Parse($$"""
        { "name": "{{name}}", "regularizer": "l2", "lambda": 1e-4, "training": { "epochs": {{epochs}}, "trainLimit": 300 },
          "search": { "strategy": "grid", "space": { {{space}} } } }
        """, null);

    private async Task<string> RunAsync(SweepSpec spec)
    {
        var client = new SweepClient(fixture.Client);
        string id = await client.SubmitAsync(spec);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await foreach (var _ in client.WatchAsync(id, TimeSpan.FromMilliseconds(100), cts.Token)) { }
        return id;
    }

    [Fact]
    public async Task One_trace_holds_the_submit_the_sweep_and_every_trial_and_epoch_from_both_silos()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SweepTelemetry.Name).AddInMemoryExporter(spans).Build();
        string id = await RunAsync(Spec("traced", "\"pruneRate\": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9]", epochs: 2));
        tracing.ForceFlush();

        var submit = spans.Single(s => s.DisplayName == "submit" && (string?)s.GetTagItem("sweep_id") == id);
        var trace = spans.Where(s => s.TraceId == submit.TraceId).ToArray();
        var sweep = trace.SingleOrDefault(s => s.DisplayName == "sweep")
            ?? throw new Xunit.Sdk.XunitException("no sweep span in the trace; sweep spans: " + string.Join("; ",
                spans.Where(s => s.DisplayName == "sweep")
                    .Select(s => $"{s.TraceId}/{s.ParentSpanId} vs submit {submit.TraceId}/{submit.SpanId}")));
        Assert.Equal(submit.SpanId, sweep.ParentSpanId);
        var trials = trace.Where(s => s.DisplayName == "trial").ToArray();
        Assert.Equal(10, trials.Length);
        Assert.All(trials, t =>
        {
            Assert.Equal(sweep.SpanId, t.ParentSpanId);
            Assert.Equal("completed", t.GetTagItem("status"));
            Assert.Equal("mlp", t.GetTagItem("model"));
            Assert.Equal("l2", t.GetTagItem("regularizer"));
            Assert.Equal(1e-4, t.GetTagItem("lambda"));
            Assert.Equal("stochastic", t.GetTagItem("prune_method"));
            Assert.Equal(0L, t.GetTagItem("seed"));
            Assert.Equal(1, t.GetTagItem("attempt"));
            Assert.Equal("cpu", t.GetTagItem("device"));
            Assert.NotNull(t.GetTagItem("prune_rate"));
            Assert.NotNull(t.GetTagItem("accuracy"));
            var epochs = trace.Where(e => e.DisplayName == "epoch" && e.ParentSpanId == t.SpanId)
                .OrderBy(e => e.GetTagItem("epoch")).ToArray();
            Assert.Equal(2, epochs.Length);
            Assert.Equal(new object?[] { 1, 2 }, epochs.Select(e => e.GetTagItem("epoch")));
            Assert.All(epochs, e =>
            {
                foreach (var tag in new[] { "loss", "accuracy", "weight_sparsity", "node_sparsity", "device", "silo" })
                    Assert.NotNull(e.GetTagItem(tag));
                Assert.True(e.Duration > TimeSpan.Zero);
            });
        });
        // Trials ran on both silos of the cluster, and their spans still descend from the one sweep span.
        Assert.Equal(2, trials.Select(t => t.GetTagItem("silo")).Distinct().Count());
    }

    [Fact]
    public async Task A_failed_trial_span_has_error_status_and_its_reason()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SweepTelemetry.Name).AddInMemoryExporter(spans).Build();
        string id = await RunAsync(Spec("traced-failure", "\"lambda\": [1e6]", epochs: 1));
        tracing.ForceFlush();
        var trial = spans.Single(s => s.DisplayName == "trial" && (string?)s.GetTagItem("sweep_id") == id);
        Assert.Equal(ActivityStatusCode.Error, trial.Status);
        Assert.Contains("diverged", trial.StatusDescription);
        Assert.Equal("failed", trial.GetTagItem("status"));
    }

    [Fact]
    public async Task Metric_counters_match_the_sweeps_outcome()
    {
        var metrics = new List<Metric>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(SweepTelemetry.Name).AddInMemoryExporter(metrics).Build();
        // Three trials complete (2 epochs each), one diverges in its first epoch.
        await RunAsync(Spec("metered", "\"lambda\": [1e-5, 1e-4, 1e-3, 1e6]", epochs: 2));
        meters.ForceFlush();

        long Sum(string name) => metrics.Where(m => m.Name == name).SelectMany(Points).Sum(p => p.GetSumLong());
        Assert.Equal(4, Sum("sweep.trials.started"));
        Assert.Equal(3, Sum("sweep.trials.completed"));
        Assert.Equal(1, Sum("sweep.trials.failed"));
        Assert.Equal(0, Sum("sweep.trials.retried"));
        Assert.Equal(0, Sum("sweep.trials.in_flight"));
        Assert.Equal(6, metrics.Where(m => m.Name == "sweep.epoch.duration").SelectMany(Points).Sum(p => p.GetHistogramCount()));
        Assert.Contains(metrics, m => m.Name == "sweep.slots.utilization");
    }

    private static IEnumerable<MetricPoint> Points(Metric metric)
    {
        foreach (ref readonly var point in metric.GetMetricPoints()) yield return point;
    }
}
