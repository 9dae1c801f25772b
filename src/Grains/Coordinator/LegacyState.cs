using Microsoft.Extensions.Logging;
using Sweep.Core.Search;
using Sweep.Core.Sweeps;
using Sweep.Grains.Results;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// A coordinator state written before results moved out of it (an earlier release): its results go to the store (each
/// once, however often this runs), its plan must be the one the spec expands to now, and the record takes the new form
/// (the caller writes it).
/// </summary>
internal static class LegacyState
{
    public static async Task MigrateAsync(SweepRecord record, string sweepId, ISweepResultStore store, ILogger logger)
    {
        var spec = record.Spec!;
        var plans = SearchSpace.Expand(spec);
        if (record.Plans.Count > 0 && !record.Plans.Select(p => p.TrialId).SequenceEqual(plans.Select(p => p.TrialId)))
        {
            // Trials of another plan cannot be matched to this release's: refuse rather than run or count the wrong ones.
            throw new InvalidOperationException(
                $"sweep {sweepId} was written by an earlier release whose plan this release does not reproduce; "
                + "export it with that release");
        }
        var book = new SweepBook(spec, plans);
        var results = record.Results.Where(r => book.IsPlanned(r.TrialId)).ToArray();
        foreach (var chunk in results.Chunk(ResultBatcher.Chunk))
            await store.AppendAsync(sweepId, ResultBatcher.Indexed(book, chunk));
        foreach (var r in results) book.Collect(r);
        record.Book = book.Save();
        record.Stored = await store.CountAsync(sweepId);
        record.Plans = [];
        record.Results = [];
        logger.LogInformation("Sweep {Sweep}: state of an earlier release migrated ({Results} results moved to the result store)",
            sweepId, results.Length);
    }
}
