using Microsoft.Extensions.Logging;
using Sweep.Core.Models;
using Sweep.Core.Sweeps;
using Sweep.Grains.Results;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// Appends a sweep's results to its store, a batch at a time: results that arrive while an append is on its way go
/// together in the next one (one round trip per batch, not per result), in chunks of <see cref="Chunk"/>; each caller
/// returns once its results are stored. Each stored chunk goes to <see cref="SweepRun.Stored"/>, which counts it and may
/// give more to store (an nsga2 generation proposed by it), stored next. Runs on the grain's scheduler.
/// </summary>
internal sealed class ResultBatcher(ISweepResultStore store)
{
    /// <summary>The most results in one append (a cancelled 100,000-trial sweep stores its waiting trials here).</summary>
    public const int Chunk = 1000;

    private List<TrialResult> _queue = [];
    private TaskCompletionSource? _queued;

    /// <summary>An append is on its way.</summary>
    public bool Storing { get; private set; }

    /// <summary>
    /// Stores <paramref name="results"/> and takes them into <paramref name="run"/>. <paramref name="stored"/> hears of
    /// each stored trial; <paramref name="chained"/> is called after storing what nobody awaits (an nsga2 generation's
    /// kept or cancelled results: it may have been the sweep's last batch).
    /// </summary>
    public async Task StoreAsync(SweepRun run, IReadOnlyList<TrialResult> results, Action<string> stored, Action chained)
    {
        if (results.Count == 0) return;
        _queue.AddRange(results);
        var queued = _queued ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!Storing) _ = DrainAsync(run, stored, chained);
        await queued.Task;
    }

    /// <summary>Waits until no append is on its way (the last one lands before the store goes).</summary>
    public async Task IdleAsync()
    {
        while (Storing) await Task.Delay(10);
    }

    private async Task DrainAsync(SweepRun run, Action<string> stored, Action chained)
    {
        Storing = true;
        bool more = false;
        try
        {
            while (_queue.Count > 0)
            {
                var batch = _queue;
                var done = _queued!;
                _queue = [];
                _queued = null;
                try
                {
                    if (run.Phase == SweepPhase.Deleted) throw new InvalidOperationException($"sweep {run.SweepId} was deleted");
                    // Each chunk's trials count as done once that chunk is stored.
                    foreach (var chunk in batch.Chunk(Chunk))
                    {
                        var fresh = await store.AppendAsync(run.SweepId, Indexed(run.Book, chunk));
                        foreach (var r in chunk) stored(r.TrialId);
                        if (run.Stored(chunk, fresh.Count(f => f)) is { Count: > 0 } next)
                        {
                            more = true;
                            _queue.AddRange(next);
                            _queued ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        }
                    }
                    done.SetResult();
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }
        }
        finally
        {
            Storing = false;
        }
        if (more) chained();
    }

    /// <summary>Results with their plan positions (and nsga2 generations), as the store takes them.</summary>
    public static IndexedResult[] Indexed(SweepBook book, IReadOnlyList<TrialResult> results) =>
        results.Select(r => new IndexedResult(book.IndexOf(r.TrialId),
            book.GenerationOf(r.TrialId) is { } generation ? r with { Generation = generation } : r)).ToArray();

    /// <summary>
    /// Every stored result by trial id (the first of each), without its layers and, unless asked, its epochs: what nsga2
    /// replays and early stopping's rung tables are rebuilt from.
    /// </summary>
    public static async Task<Dictionary<string, TrialResult>> ReadAllAsync(ISweepResultStore store, string sweepId, bool keepEpochs)
    {
        var all = new Dictionary<string, TrialResult>(StringComparer.Ordinal);
        for (long at = 0; ; )
        {
            var page = await store.ReadAsync(sweepId, at, Chunk);
            foreach (var r in page) all.TryAdd(r.TrialId, r with { Epochs = keepEpochs ? r.Epochs : [], Layers = [] });
            at += page.Count;
            if (page.Count < Chunk) return all;
        }
    }

    /// <summary>
    /// Results stored after the record's last write (the coordinator stopped in between) go into the run. Every stored
    /// result is a done trial: when the book then has fewer than the store holds (appends of another activation landed
    /// below the record's position), the whole store is read again.
    /// </summary>
    public static async Task ReadTailAsync(ISweepResultStore store, SweepRun run, ILogger logger)
    {
        await ReadIntoAsync(store, run, run.Record.Stored);
        if (!run.LacksStored) return;
        logger.LogWarning("Sweep {Sweep}: the book lacks some stored results; reading all {Count} again", run.SweepId, run.Record.Stored);
        await ReadIntoAsync(store, run, 0);
    }

    /// <summary>Results stored from <paramref name="from"/> on go into the run (those it has not counted yet).</summary>
    private static async Task ReadIntoAsync(ISweepResultStore store, SweepRun run, long from)
    {
        long at = from;
        while (true)
        {
            var page = await store.ReadAsync(run.SweepId, at, Chunk);
            foreach (var r in page) run.Found(r);
            at += page.Count;
            if (page.Count < Chunk) break;
        }
        run.ReadTo(at);
    }
}
