using Sweep.Core;
using Microsoft.Extensions.Options;
using Sweep.Training;
using Microsoft.Extensions.Hosting;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;
using Microsoft.Extensions.Logging;
using Sweep.Grains;
using Sweep.Grains.Resilience;
using Sweep.Grains.Slots;
using Sweep.Grains.Results;
using Sweep.Grains.Security;
using Orleans.Connections.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sweep.Silo;

/// <summary>Everything a silo needs to run Sweep's grains, and the two ways a cluster is formed.</summary>
public static class SweepSiloExtensions
{
    /// <summary>Adds the training slots, their advertiser, and the resilience pipelines; binds "Sweep" and "Sweep:Resilience".</summary>
    public static ISiloBuilder AddSweep(this ISiloBuilder silo, Action<TrialSlotOptions>? slots = null)
    {
        var options = silo.Services.AddOptions<TrialSlotOptions>().BindConfiguration("Sweep").ValidateOnStart();
        if (slots is not null) options.Configure(slots);
        options.PostConfigure<ILocalSiloDetails>((o, silo) => o.PoolName = silo.Name);
        silo.Services.AddOptions<SweepResilienceOptions>().BindConfiguration(SweepResilienceOptions.Section).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<TrialSlotOptions>, SelfValidation<TrialSlotOptions>>();
        silo.Services.AddSingleton<IValidateOptions<SweepResilienceOptions>, SelfValidation<SweepResilienceOptions>>();
        silo.Services.AddSingleton<SweepResilience>();
        silo.Services.AddSingleton<TrialSlotPool>();
        silo.Services.AddSingleton<SlotAdvertiser>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SlotAdvertiser>());
        silo.Services.AddSingleton<ProgressReporter>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ProgressReporter>());
        silo.Services.AddOptions<SweepSecurityOptions>().BindConfiguration("Sweep").ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<SweepSecurityOptions>, SelfValidation<SweepSecurityOptions>>();
        silo.Services.AddSingleton<SweepCallFilter>();
        silo.Services.AddSingleton<IIncomingGrainCallFilter>(sp => sp.GetRequiredService<SweepCallFilter>());
        silo.Services.AddSingleton<IOutgoingGrainCallFilter>(sp => sp.GetRequiredService<SweepCallFilter>());
        silo.Services.AddOptions<SweepLimitOptions>().BindConfiguration(SweepLimitOptions.Section).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<SweepLimitOptions>, SelfValidation<SweepLimitOptions>>();
        silo.Services.AddOptions<SweepRetentionOptions>().BindConfiguration("Sweep")
            .Validate(o => o.Validate() is null, "Sweep:RetainFinished must be positive");
        // A localhost cluster keeps results in grains' memory unless the host chose a store (Redis, or `sweep run`'s file).
        silo.Services.TryAddSingleton<ISweepResultStore, GrainResultStore>();
        silo.Services.AddSingleton<SlotView>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SlotView>());
        silo.Services.AddPlacementDirector<FreeSlotPlacement, FreeSlotPlacementDirector>();
        // Failure detection can be tuned from configuration (Sweep:Membership:ProbeTimeout, …).
        silo.Services.AddOptions<ClusterMembershipOptions>().BindConfiguration("Sweep:Membership");
        return silo;
    }

    /// <summary>
    /// Forms the cluster: with <see cref="SweepSiloOptions.Redis"/>, Redis membership, grain storage and reminders and
    /// endpoints advertised at <see cref="SweepSiloOptions.AdvertisedIp"/>; otherwise localhost clustering with state in memory.
    /// </summary>
    public static ISiloBuilder UseSweepClustering(this ISiloBuilder silo, SweepSiloOptions o)
    {
        o.ThrowIfInvalid();
        silo.Configure<SiloOptions>(s => s.SiloName = o.EffectiveSiloName);
        if (o.TlsDirectory is not null) silo.UseSweepTls(SweepTls.Load(o.TlsDirectory, "Sweep:TlsDirectory"));
        if (o.Redis is null)
        {
            return silo
                .UseLocalhostClustering(
                    o.SiloPort, o.GatewayPort, new IPEndPoint(IPAddress.Loopback, o.PrimarySiloPort), o.ServiceId, o.ClusterId)
                .AddSweepMemoryStorage()
                .UseInMemoryReminderService();
        }
        silo.Configure<ClusterOptions>(c => { c.ClusterId = o.ClusterId; c.ServiceId = o.ServiceId; });
        silo.ConfigureEndpoints(IPAddress.Parse(o.AdvertisedIp), o.SiloPort, o.GatewayPort, listenOnAnyHostAddress: true);
        silo.UseRedisClustering(r => r.ConfigurationOptions = Redis(o.Redis));
        // Orleans' own serializer: the default JSON one stores CLR type names and cannot read back compiler-generated collections.
        silo.AddRedisGrainStorage(SweepStorage.Name, options => options.Configure<Serializer>((r, serializer) =>
        {
            r.ConfigurationOptions = Redis(o.Redis);
            r.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            r.DeleteStateOnClear = true;   // a trial whose result is stored clears its state: nothing of it stays in Redis
        }));
        // Finished trials: a list and a done bitmap per sweep, in the same Redis.
        string redis = o.Redis;
        silo.Services.AddSingleton<ISweepResultStore>(sp =>
            new RedisResultStore(() => Redis(redis), sp.GetRequiredService<IOptions<ClusterOptions>>()));
        silo.UseRedisReminderService(r => r.ConfigurationOptions = Redis(o.Redis));
        // A Redis that lost the cluster's data stops the silo with one line instead of a membership loop.
        silo.Services.AddSingleton(sp => new RedisDataWatch(() => Redis(redis), sp.GetRequiredService<IOptions<ClusterOptions>>(),
            sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<RedisDataWatch>>()));
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RedisDataWatch>());
        return silo;
    }

    /// <summary>
    /// mTLS on all three kinds of connection. Silo ↔ silo: both ends must hold a certificate of the authority with the
    /// silos' subject (this silo's own). Gateway: a client must present a certificate of the authority (any subject).
    /// </summary>
    public static ISiloBuilder UseSweepTls(this ISiloBuilder silo, SweepTls tls)
    {
        string silos = tls.Certificate.Subject;
        TlsOptions Options(string? subject) => new()
        {
            LocalCertificate = tls.Certificate,
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
            ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
            // The callback decides alone: chain to our authority (and the subject); name checks do not apply to pod IPs.
            RemoteCertificateValidation = (certificate, _, _) => tls.Trusts(certificate, subject),
        };
        TlsOptions between = Options(silos), gateway = Options(null);
        return silo.Configure<SiloConnectionOptions>(c =>
        {
            // Each connection's remote address is noted first, for the one-line log of a handshake that fails.
            c.ConfigureSiloInboundConnection(b => b.Use(TlsRefusals.Middleware).UseServerTls(between));
            c.ConfigureSiloOutboundConnection(b => b.Use(TlsRefusals.Middleware).UseClientTls(between));
            c.ConfigureGatewayInboundConnection(b => b.Use(TlsRefusals.Middleware).UseServerTls(gateway));
        });
    }

    /// <summary>
    /// The in-memory storage of localhost and embedded mode (lost when every silo stops). It serializes every write, so
    /// it uses Orleans' binary serializer too: the default (Newtonsoft JSON) cost a `sweep run` ~860 more methods to
    /// compile and a JSON rendering of the coordinator's whole result list per write.
    /// </summary>
    public static ISiloBuilder AddSweepMemoryStorage(this ISiloBuilder silo) =>
        silo.AddMemoryGrainStorage(SweepStorage.Name, options => options.Configure<Serializer>((m, serializer) =>
            m.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));

    /// <summary>Redis options that keep retrying while Redis is briefly away, rather than failing the silo at once.</summary>
    public static ConfigurationOptions Redis(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        return options;
    }

    /// <summary>Sweep's silo settings: section "Sweep" of configuration, with SWEEP_REDIS as a shorthand for Sweep:Redis.</summary>
    public static SweepSiloOptions ReadSiloOptions(IConfiguration configuration)
    {
        var o = configuration.GetSection(SweepSiloOptions.Section).Get<SweepSiloOptions>() ?? new SweepSiloOptions();
        if (o.Redis is null && Environment.GetEnvironmentVariable("SWEEP_REDIS") is { Length: > 0 } redis) o.Redis = redis;
        // On Kubernetes the downward API gives the pod IP; an explicit Sweep:AdvertisedIp still wins.
        if (configuration["Sweep:AdvertisedIp"] is null && Environment.GetEnvironmentVariable("POD_IP") is { Length: > 0 } podIp)
            o.AdvertisedIp = podIp;
        return o;
    }
}

/// <summary>Runs an options class's own <see cref="IValidatedOptions.Validate"/> when the host validates its options.</summary>
public sealed class SelfValidation<T> : IValidateOptions<T> where T : class, IValidatedOptions
{
    public ValidateOptionsResult Validate(string? name, T options) =>
        options.Validate() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
