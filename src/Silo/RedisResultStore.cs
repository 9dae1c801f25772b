using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;
using Sweep.Core;
using Sweep.Core.Models;

using Sweep.Grains.Results;

namespace Sweep.Silo;

/// <summary>
/// Results in Redis: per sweep a list of JSON lines (<c>{ServiceId}/results/{{sweepId}}</c>, the id in braces) and a
/// bitmap over plan indexes (<c>…/done</c>). One Lua script sets a trial's bit and pushes its line only when the bit was
/// clear, so a result is stored once even when two coordinator activations (around a silo's death) or a re-run trial
/// append it again.
/// </summary>
public sealed class RedisResultStore(Func<ConfigurationOptions> configuration, IOptions<ClusterOptions> cluster)
    : ISweepResultStore, IAsyncDisposable
{
    private const string AppendScript = """
        local out = {}
        for i = 1, #ARGV, 2 do
          if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then
            redis.call('RPUSH', KEYS[2], ARGV[i + 1])
            out[#out + 1] = 1
          else
            out[#out + 1] = 0
          end
        end
        return out
        """;

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _redis;

    // The sweep id in braces is the keys' hash tag: a sweep's list and bitmap share a slot on a Redis Cluster too.
    private string Prefix(string sweepId) => $"{cluster.Value.ServiceId}/results/{{{sweepId}}}";

    public async Task<bool[]> AppendAsync(string sweepId, IReadOnlyList<IndexedResult> results)
    {
        if (results.Count == 0) return [];
        var db = (await ConnectAsync()).GetDatabase();
        var args = new RedisValue[results.Count * 2];
        for (int i = 0; i < results.Count; i++)
        {
            args[2 * i] = results[i].Index;
            args[2 * i + 1] = JsonSerializer.Serialize(results[i].Result, SweepJson.Options);
        }
        string list = Prefix(sweepId);
        var reply = await db.ScriptEvaluateAsync(AppendScript, [list + "/done", list], args);
        return ((RedisResult[])reply!).Select(r => (int)r == 1).ToArray();
    }

    public async Task<IReadOnlyList<TrialResult>> ReadAsync(string sweepId, long from, int max)
    {
        if (max <= 0 || from < 0) return [];
        var db = (await ConnectAsync()).GetDatabase();
        var lines = await db.ListRangeAsync(Prefix(sweepId), from, from + max - 1);
        return lines.Select(l => JsonSerializer.Deserialize<TrialResult>(l.ToString(), SweepJson.Options)!).ToArray();
    }

    public async Task<long> CountAsync(string sweepId) => await (await ConnectAsync()).GetDatabase().ListLengthAsync(Prefix(sweepId));

    /// <summary>Removes the results, the done bitmap and any trial grain state the sweep left behind.</summary>
    public async Task DeleteAsync(string sweepId)
    {
        var redis = await ConnectAsync();
        var db = redis.GetDatabase();
        string list = Prefix(sweepId);
        await db.KeyDeleteAsync([list, list + "/done"]);
        // Trial grains clear their state once their result is stored; a trial killed between the two leaves it behind.
        string pattern = $"{cluster.Value.ServiceId}/state/trial/{sweepId}/*";
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica) continue;
            var batch = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                batch.Add(key);
                if (batch.Count == 1000)
                {
                    await db.KeyDeleteAsync([.. batch]);
                    batch.Clear();
                }
            }
            if (batch.Count > 0) await db.KeyDeleteAsync([.. batch]);
        }
    }

    /// <summary>The sweep's bytes in Redis (MEMORY USAGE of its list), for the scale benchmark.</summary>
    public async Task<long> BytesAsync(string sweepId)
    {
        var reply = await (await ConnectAsync()).GetDatabase().ExecuteAsync("MEMORY", "USAGE", Prefix(sweepId));
        return reply.IsNull ? 0 : (long)reply;
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        if (_redis is { } ready) return ready;
        await _connecting.WaitAsync();
        try
        {
            return _redis ??= await ConnectionMultiplexer.ConnectAsync(configuration());
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
    }
}
