using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Sweep.Core.Telemetry;

namespace Sweep.Silo;

/// <summary>
/// Telemetry settings (section "Sweep:Telemetry"); the OTLP exporter is configured by the standard OTEL_EXPORTER_OTLP_* variables.
/// </summary>
public sealed class SweepTelemetryOptions
{
    /// <summary>Also write spans and metrics to the console (debugging).</summary>
    public bool Console { get; set; }
    /// <summary>Fraction of new traces recorded (parent-based: a sampled parent keeps its children).</summary>
    public double SampleRatio { get; set; } = 1.0;
    /// <summary>Also record Orleans' own sources (grain calls, lifecycle) and meters.</summary>
    public bool OrleansSources { get; set; }
}

public static class SweepTelemetryHosting
{
    /// <summary>Orleans' activity sources, recorded when Sweep:Telemetry:OrleansSources is true.</summary>
    public static readonly string[] OrleansActivitySources =
        ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.Orleans.Lifecycle"];

    /// <summary>True when an OTLP endpoint is configured through the standard variables.</summary>
    public static bool OtlpConfigured(IConfiguration configuration) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" }
            .Any(k => !string.IsNullOrWhiteSpace(configuration[k] ?? Environment.GetEnvironmentVariable(k)));

    /// <summary>
    /// Traces of Sweep's source and metrics of Sweep's meter plus runtime instrumentation, exported by OTLP and/or the
    /// console. Nothing is registered (and nothing exported) unless one of them is configured.
    /// </summary>
    public static IServiceCollection AddSweepTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        var o = configuration.GetSection("Sweep:Telemetry").Get<SweepTelemetryOptions>() ?? new SweepTelemetryOptions();
        if (!(o.SampleRatio is >= 0 and <= 1))
            throw new ArgumentException($"Sweep:Telemetry:SampleRatio must be in [0, 1], got {o.SampleRatio}");
        bool otlp = OtlpConfigured(configuration);
        if (!otlp && !o.Console) return services;
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}"))
            .WithTracing(t =>
            {
                t.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(o.SampleRatio)));
                t.AddSource(SweepTelemetry.Name);
                if (o.OrleansSources) t.AddSource(OrleansActivitySources);
                if (otlp) t.AddOtlpExporter();
                if (o.Console) t.AddConsoleExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter(SweepTelemetry.Name);
                m.AddRuntimeInstrumentation();
                if (o.OrleansSources) m.AddMeter("Microsoft.Orleans");
                if (otlp) m.AddOtlpExporter();
                if (o.Console) m.AddConsoleExporter();
            });
        return services;
    }
}
