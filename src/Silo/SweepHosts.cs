using Sweep.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Configuration;
using Sweep.Grains.Resilience;
using Sweep.Grains.Slots;
using Sweep.Grains.Results;
using Sweep.Grains.Security;
using Sweep.Core.Data;

namespace Sweep.Silo;

/// <summary>The hosts Sweep runs: a cluster silo, and the embedded single-process silo of `sweep run`.</summary>
public static class SweepHosts
{
    /// <summary>
    /// A long-running silo: configuration from appsettings.json and Sweep__* variables (SWEEP_REDIS for Sweep:Redis),
    /// then <paramref name="overrides"/> (the command line). Redis clustering when Sweep:Redis is set, localhost otherwise.
    /// </summary>
    public static IHost BuildSilo(
        Action<SweepSiloOptions>? overrides = null, Action<TrialSlotOptions>? slots = null, Action<SweepHttpOptions>? httpOverrides = null)
    {
        var builder = Host.CreateApplicationBuilder([]);
        var silo = SweepSiloExtensions.ReadSiloOptions(builder.Configuration);
        overrides?.Invoke(silo);
        silo.ThrowIfInvalid();
        // Checked here, before the host exists, so a bad setting is one line naming it rather than a failed start-up.
        var trialSlots = builder.Configuration.GetSection("Sweep").Get<TrialSlotOptions>() ?? new TrialSlotOptions();
        slots?.Invoke(trialSlots);
        if (trialSlots.Validate() is { } slotProblem) throw new ArgumentException(slotProblem);
        var resilience = builder.Configuration.GetSection(SweepResilienceOptions.Section).Get<SweepResilienceOptions>()
            ?? new SweepResilienceOptions();
        if (resilience.Validate() is { } resilienceProblem) throw new ArgumentException(resilienceProblem);
        var limits = builder.Configuration.GetSection(SweepLimitOptions.Section).Get<SweepLimitOptions>() ?? new SweepLimitOptions();
        if (limits.Validate() is { } limitProblem) throw new ArgumentException(limitProblem);
        var security = builder.Configuration.GetSection("Sweep").Get<SweepSecurityOptions>() ?? new SweepSecurityOptions();
        if (security.Validate() is { } securityProblem) throw new ArgumentException(securityProblem);
        var http = builder.Configuration.GetSection(SweepHttpOptions.Section).Get<SweepHttpOptions>() ?? new SweepHttpOptions();
        httpOverrides?.Invoke(http);
        string? httpProblem = http.Validate() ?? (http.Port is null ? null : http.CheckExposure(silo.TlsDirectory, security.ClientToken));
        if (httpProblem is not null) throw new ArgumentException(httpProblem);
        if (silo.Redis is null && silo.SiloPort != silo.PrimarySiloPort && !Listening(silo.PrimarySiloPort, TimeSpan.FromSeconds(20)))
            throw new ArgumentException(
                $"no primary silo answers at 127.0.0.1:{silo.PrimarySiloPort}: a localhost cluster forms around its primary; "
                + $"start it first (./sweep silo --port {silo.PrimarySiloPort}), give --primary PORT, or use --redis HOST:PORT");
        // One dataset policy per process: every dataset read of this silo (submit checks, trials) follows it.
        DataPolicy.Current = silo.DataPolicy();
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = silo.ShutdownTimeout);
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);   // Orleans' placement pipeline logs every attempt at Information
        // Failed TLS handshakes: one line each, rate-limited, instead of Orleans' warning with a stack trace.
        builder.Logging.AddFilter<ConsoleLoggerProvider>(TlsRefusals.Category, LogLevel.None);
        builder.Services.AddSingleton<ILoggerProvider>(sp =>
            new TlsRefusals(() => sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sweep.Tls")));
        builder.Services.AddSweepTelemetry(builder.Configuration, "sweep-silo");
        builder.UseOrleans(s => s.UseSweepClustering(silo).AddSweep(slots).AddActivityPropagation());
        // After the silo: hosted services start in order, and the API needs the silo's cluster client.
        if (http.Port is not null) AddHttp(builder.Services, http, silo.TlsDirectory);
        if (silo.EffectiveHealthPort != 0)
            builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<SiloHealth>(sp, silo.EffectiveHealthPort));
        var host = builder.Build();
        host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sweep.Silo").LogInformation(
            "Silo {Name} on {Ip}:{Port}, gateway {Gateway}, cluster '{Cluster}', {Mode}",
            silo.EffectiveSiloName, silo.Redis is null ? "127.0.0.1" : silo.AdvertisedIp, silo.SiloPort, silo.GatewayPort, silo.ClusterId,
            silo.Redis is null ? "localhost clustering, state in memory" : $"Redis at {silo.RedisForLogs()}");
        host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sweep.Silo").LogInformation(
            "Datasets: {Roots}, at most {Max} bytes a file",
            DataPolicy.Current.Roots is { } roots ? (roots.Count == 0 ? "built-in only" : "under " + string.Join(", ", roots)) : "any file",
            DataPolicy.Current.MaxBytes);
        // Whether each protection is on, never the secrets themselves.
        host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sweep.Silo").LogInformation(
            "Security: TLS {Tls}, cluster key {Key}, client credential {Token}",
            silo.TlsDirectory is null ? "off" : "on (" + silo.TlsDirectory + ")", security.ClusterKey is null ? "off" : "on",
            security.ClientToken is null ? "not required" : "required");
        return host;
    }

    /// <summary>
    /// An in-process silo on free loopback ports with its own client, for `sweep run`: nothing to start, nothing
    /// that collides with a `sweep silo` running on the default ports. Logs only errors, to stderr.
    /// </summary>
    /// <param name="resultsFile">Where a sweep's results go (`sweep run`: the run folder's trials.jsonl); null = in memory.</param>
    /// <param name="http">Serve the HTTP API and dashboard (`sweep run --ui`); null = none.</param>
    public static async Task<IHost> StartEmbeddedAsync(
        Action<TrialSlotOptions>? slots = null, CancellationToken cancellationToken = default, Func<string, string>? resultsFile = null,
        SweepHttpOptions? http = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("SWEEP_DEBUG") is null)
        {
            // The terminal is the user's: one line per error, no stack traces.
            builder.Services.AddSingleton<TerminalLog>();
            builder.Logging.AddConsoleFormatter<OneLineConsoleFormatter, ConsoleFormatterOptions>();
            builder.Logging.AddConsole(o =>
            {
                o.FormatterName = OneLineConsoleFormatter.Name;
                o.LogToStandardErrorThreshold = LogLevel.Trace;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        int siloPort = SweepSiloOptions.FreeTcpPort(), gatewayPort = SweepSiloOptions.FreeTcpPort();
        var options = new SweepSiloOptions
        {
            SiloPort = siloPort, GatewayPort = gatewayPort, PrimarySiloPort = siloPort, ClusterId = "sweep-embedded",
        };
        builder.Configuration.AddEnvironmentVariables();
        builder.Services.AddSweepTelemetry(builder.Configuration, "sweep");
        if (resultsFile is not null) builder.Services.AddSingleton<ISweepResultStore>(new FileResultStore(resultsFile));
        builder.UseOrleans(s => s.UseSweepClustering(options).AddSweep(slots).AddActivityPropagation());
        if (http is not null) AddHttp(builder.Services, http, null);
        // The command that embeds the silo owns Ctrl+C and SIGTERM (it cancels the sweep and writes its files first).
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return host;
    }

    /// <summary>Whether something accepts TCP connections on the loopback port, asked until <paramref name="within"/>.</summary>
    private static bool Listening(int port, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                client.Connect(System.Net.IPAddress.Loopback, port);
                return true;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(250);
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }
    }

    private static void AddHttp(IServiceCollection services, SweepHttpOptions http, string? tlsDirectory) =>
        services.AddSingleton(sp => new SweepHttpService(sp, http, tlsDirectory, sp.GetRequiredService<ILogger<SweepHttpService>>()))
            .AddHostedService(sp => sp.GetRequiredService<SweepHttpService>());

    /// <summary>A host lifetime that listens to no signals: the embedding command decides when the silo stops.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
