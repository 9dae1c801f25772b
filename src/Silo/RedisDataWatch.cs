using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;
using Sweep.Grains.Slots;

namespace Sweep.Silo;

/// <summary>
/// Watches that Redis still holds this cluster's data. The first silo of a cluster writes a mark (a random id) next to
/// the membership table; every silo remembers it and reads it every 2 s. A mark that is gone or another one means Redis
/// lost the cluster's data (restarted without persistence, flushed): Orleans' membership table is gone with it, and its
/// silos would retry their membership updates for ever (`ERR user_script:2: bad argument #1 to 'find'`) with every
/// sweep's state and results lost. The silo says so in one line and stops (exit code 3), so that whatever supervises it
/// (Kubernetes, systemd) starts it into a fresh cluster. Sweep needs Redis with AOF persistence (README, "A real cluster").
/// </summary>
public sealed class RedisDataWatch(Func<ConfigurationOptions> configuration, IOptions<ClusterOptions> cluster,
    IHostApplicationLifetime lifetime, ILogger<RedisDataWatch> logger) : SiloLoop(logger), IAsyncDisposable
{
    /// <summary>The exit code of a silo stopped because Redis lost its data.</summary>
    public const int ExitCode = 3;

    private ConnectionMultiplexer? _redis;
    private string? _mark;
    private bool _stopping;

    protected override TimeSpan Period => TimeSpan.FromSeconds(2);

    private RedisKey Key => $"{cluster.Value.ServiceId}/cluster/{cluster.Value.ClusterId}/mark";

    protected override async Task TickAsync(CancellationToken stop)
    {
        if (_stopping) return;
        _redis ??= await ConnectionMultiplexer.ConnectAsync(configuration());
        var db = _redis.GetDatabase();
        if (_mark is null)
        {
            await db.StringSetAsync(Key, Guid.NewGuid().ToString("N"), when: When.NotExists);
            _mark = await db.StringGetAsync(Key);
            return;
        }
        var now = await db.StringGetAsync(Key);
        if (now == _mark) return;
        _stopping = true;
        logger.LogCritical(
            "Redis lost this cluster's data (restarted without persistence, or flushed): the membership table and every "
            + "sweep's state and results are gone; this silo stops. Run Redis with AOF persistence (--appendonly yes) and "
            + "start the silos again");
        Environment.ExitCode = ExitCode;
        lifetime.StopApplication();
        // Orleans' own shutdown talks to the lost membership table and to silos that are gone, and may not end; nor would
        // Environment.Exit (the host's exit handler waits for that shutdown): the process ends regardless.
        _ = Task.Delay(TimeSpan.FromSeconds(15), CancellationToken.None)
            .ContinueWith(_ => ExitNow(ExitCode), TaskScheduler.Default);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int status);

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
    }
}
