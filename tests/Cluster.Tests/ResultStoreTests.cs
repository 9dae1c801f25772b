using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Sweep.Core.Models;
using Sweep.Grains.Results;
using Sweep.Silo;
using Xunit;

namespace Sweep.Cluster.Tests;

/// <summary>The result stores against real backends: a real redis-server, a real file.</summary>
public sealed class ResultStoreTests
{
    private static TrialResult Result(int i, string sweep = "s") =>
        new() { TrialId = $"t{i:D12}", SweepId = sweep, Status = TrialStatus.Completed, Accuracy = i / 1000.0 };

    [Fact]
    public async Task Redis_stores_each_plan_index_once_however_many_writers_append_it()
    {
        using var redis = new RedisServer();
        var cluster = Options.Create(new ClusterOptions { ServiceId = "svc" });
        await using var a = new RedisResultStore(() => SweepSiloExtensions.Redis(redis.Address), cluster);
        await using var b = new RedisResultStore(() => SweepSiloExtensions.Redis(redis.Address), cluster);
        // Two coordinators (an old and a new activation) append overlapping batches at the same time.
        var batches = Enumerable.Range(0, 40)
            .Select(k => Enumerable.Range(k * 25, 50).Select(i => new IndexedResult(i, Result(i))).ToArray());
        var fresh = await Task.WhenAll(batches.Select((batch, k) => (k % 2 == 0 ? a : b).AppendAsync("sweep-1", batch)));

        Assert.Equal(1025, fresh.Sum(f => f.Count(x => x)));
        Assert.Equal(1025, await a.CountAsync("sweep-1"));
        var stored = new List<TrialResult>();
        for (long from = 0; ; from += 300)
        {
            var page = await b.ReadAsync("sweep-1", from, 300);
            stored.AddRange(page);
            if (page.Count < 300) break;
        }
        Assert.Equal(Enumerable.Range(0, 1025).Select(i => Result(i).TrialId), stored.Select(r => r.TrialId).Order());
        Assert.Equal(0, await a.CountAsync("sweep-2"));

        await a.DeleteAsync("sweep-1");
        Assert.Equal(0, await b.CountAsync("sweep-1"));
        Assert.Empty(await redis.KeysAsync("svc/results/*"));
    }

    [Fact]
    public async Task A_file_store_keeps_earlier_lines_drops_a_torn_last_one_and_stores_each_trial_once()
    {
        string dir = Directory.CreateTempSubdirectory("sweep-store-").FullName;
        try
        {
            string path = Path.Combine(dir, "trials.jsonl");
            string kept = System.Text.Json.JsonSerializer.Serialize(Result(1), Sweep.Core.SweepJson.Options);
            await File.WriteAllTextAsync(path, kept + "\n" + kept[..20], TestContext.Current.CancellationToken);   // a kill mid-line
            var store = new FileResultStore(_ => path);

            Assert.Equal(1, await store.CountAsync("s"));
            var fresh = await store.AppendAsync("s", [new(1, Result(1)), new(2, Result(2)), new(2, Result(2)), new(3, Result(3))]);

            Assert.Equal([false, true, false, true], fresh);
            var lines = await File.ReadAllLinesAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal([Result(1).TrialId, Result(2).TrialId, Result(3).TrialId],
                lines.Select(l => System.Text.Json.JsonSerializer.Deserialize<TrialResult>(l, Sweep.Core.SweepJson.Options)!.TrialId));
            Assert.Equal([Result(2).TrialId, Result(3).TrialId], (await store.ReadAsync("s", 1, 10)).Select(r => r.TrialId));
            // A new store over the same file (a resumed run) sees the same three.
            Assert.Equal(3, await new FileResultStore(_ => path).CountAsync("s"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
