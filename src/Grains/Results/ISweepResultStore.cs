using Sweep.Core.Models;

namespace Sweep.Grains.Results;

/// <summary>A result to store, with its trial's position in the plan (the store's de-duplication key).</summary>
[GenerateSerializer, Immutable, Alias("Sweep.IndexedResult")]
public readonly record struct IndexedResult([property: Id(0)] int Index, [property: Id(1)] TrialResult Result);

/// <summary>
/// Where a sweep's finished trials live: append-only, in the order they were stored, each planned trial at most once
/// whoever appends it and however often (the store itself de-duplicates by plan index, atomically), read back in pages.
/// One per silo (a DI singleton): Redis in a Redis-clustered deployment, the run folder's trials.jsonl in `sweep run`,
/// and a grain's memory in a localhost cluster.
/// </summary>
public interface ISweepResultStore
{
    /// <summary>Stores the results not stored before; for each, whether it was new. Durable when the task completes.</summary>
    Task<bool[]> AppendAsync(string sweepId, IReadOnlyList<IndexedResult> results);

    /// <summary>Up to <paramref name="max"/> stored results from position <paramref name="from"/>, in the order stored.</summary>
    Task<IReadOnlyList<TrialResult>> ReadAsync(string sweepId, long from, int max);

    /// <summary>How many results the sweep has stored.</summary>
    Task<long> CountAsync(string sweepId);

    /// <summary>Removes the sweep's results (and whatever else of the sweep the store's backend holds).</summary>
    Task DeleteAsync(string sweepId);
}
