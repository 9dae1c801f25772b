using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sweep.Client;

namespace Sweep.Api;

/// <summary>
/// The feeds of the sweeps this host's requests ask about. Feeds with watchers (events streams) are refreshed here every
/// <see cref="Interval"/>, whatever the number of watchers; feeds nobody used for <see cref="Idle"/> are dropped.
/// </summary>
public sealed class SweepFeeds(SweepClient client, ILogger<SweepFeeds> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan Idle = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, SweepFeed> _feeds = new(StringComparer.Ordinal);

    public SweepClient Client => client;

    public SweepFeed Get(string sweepId)
    {
        while (true)
        {
            var feed = _feeds.GetOrAdd(sweepId, id => new SweepFeed(client, id));
            lock (feed)
            {
                // A feed the sweeper retired is out of the table already (or about to be): take a fresh one.
                if (feed.Retired) continue;
                feed.LastUsed = Environment.TickCount64;
                return feed;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            foreach (var (id, feed) in _feeds)
            {
                if (Volatile.Read(ref feed.Watchers) > 0)
                {
                    try { await feed.RefreshAsync(Interval / 2, stoppingToken); }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
                    catch (Exception e) { logger.LogWarning("Refreshing sweep {Sweep} for its watchers failed: {Error}", id, e.Message); }
                }
                else
                {
                    lock (feed)
                    {
                        bool idle = Environment.TickCount64 - feed.LastUsed > Idle.TotalMilliseconds;
                        if (Volatile.Read(ref feed.Watchers) > 0 || !idle) continue;
                        feed.Retired = true;
                    }
                    _feeds.TryRemove(new KeyValuePair<string, SweepFeed>(id, feed));
                }
            }
        }
    }
}
