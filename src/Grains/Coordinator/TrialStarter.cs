using Microsoft.Extensions.Logging;
using Sweep.Core.Models;
using Sweep.Core.Sweeps;
using Sweep.Grains.Resilience;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// Asks a sweep's trials in flight to start, a batch at a time (the calls go out together: one round trip per batch).
/// Each answers with the silo it runs on (noted in the <see cref="TrialLeases"/>: its death starts the trial again
/// elsewhere) or with the result it stored already, which is collected now. A trial that does not answer keeps its place:
/// it is asked again a few times within seconds, then by the lease check. A cancelled sweep starts none again: their
/// cancelled results are collected instead.
/// </summary>
internal sealed class TrialStarter(IGrainFactory grains, TrialLeases leases, ILogger logger)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private const int Attempts = 4;

    /// <param name="collect">Stores results (and finishes the sweep if they were its last).</param>
    public async Task StartAsync(SweepRun run, IReadOnlyList<string> trialIds, Func<IReadOnlyList<TrialResult>, Task> collect,
        int attempt = 1)
    {
        if (run.Cancelled)
        {
            await collect(run.NotRestarted(trialIds));
            return;
        }
        var now = DateTime.UtcNow;
        var answers = await Task.WhenAll(trialIds.Select(async id =>
        {
            var request = TrialRequest.For(run.SweepId, run.Spec, run.Record.TraceParent, run.Book.Plan(id));
            try
            {
                return await Trial(run, id).StartAsync(request).WaitAsync(CallTimeout);
            }
            catch (Exception e) when (e is TimeoutException || SweepResilience.IsTransient(e))
            {
                logger.LogWarning("Starting trial {Trial} failed ({Reason}); the lease check retries it", id, e.Message);
                return null;
            }
        }));
        var finished = new List<TrialResult>();
        var unanswered = new List<string>();
        for (int i = 0; i < trialIds.Count; i++)
        {
            string id = trialIds[i];
            if (!run.Book.IsInFlight(id)) continue;   // its report came in meanwhile
            if (answers[i] is not { } answer)
            {
                leases.Unanswered(id);   // the lease check asks again, whatever happens below
                unanswered.Add(id);
                continue;
            }
            leases.Placed(id, answer.Silo, now);
            run.Book.Placed(id, answer.SiloName);
            if (answer.Result is { } result) finished.Add(result);
        }
        // Just after a silo's death calls may still be routed to it: try again in a few seconds (a few times) rather than
        // leave the trials to the next lease check.
        if (unanswered.Count > 0 && attempt < Attempts) _ = RetryAsync(run, unanswered, collect, attempt + 1);
        if (finished.Count == 0) return;
        await collect(finished);
        foreach (var r in finished) Trial(run, r.TrialId).ForgetAsync().Ignore();
    }

    private async Task RetryAsync(SweepRun run, IReadOnlyList<string> trialIds, Func<IReadOnlyList<TrialResult>, Task> collect,
        int attempt)
    {
        try
        {
            await Task.Delay(RetryDelay * attempt);
            var still = trialIds.Where(id => run.Book.IsInFlight(id) && !leases.IsPlaced(id)).ToArray();
            if (still.Length > 0 && run.Phase != SweepPhase.Deleted) await StartAsync(run, still, collect, attempt);
        }
        catch (Exception e)
        {
            logger.LogDebug("Sweep {Sweep}: retrying starts failed ({Reason}); the lease check asks again", run.SweepId, e.Message);
        }
    }

    private ITrialGrain Trial(SweepRun run, string trialId) =>
        grains.GetGrain<ITrialGrain>(TrialRequest.TrialKey(run.SweepId, trialId));
}
