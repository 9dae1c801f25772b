namespace Sweep.Core.Models;

/// <summary>
/// The one factory of results for trials that did not train to their end: cancelled (never started, or not started
/// again), failed, stopped by early stopping. Whoever decides the outcome adds what it knows (silo, attempts, epochs).
/// </summary>
public static class TrialOutcome
{
    /// <summary>A trial that ends with <paramref name="status"/> and why (<see cref="TrialResult.Error"/>).</summary>
    public static TrialResult Ended(string sweepId, string trialId, TrialParameters parameters, TrialStatus status, string? why) => new()
    {
        TrialId = trialId, SweepId = sweepId, Status = status, Params = parameters, Error = why,
    };

    /// <summary>A planned trial that will not run (the sweep was cancelled or its budget spent).</summary>
    public static TrialResult Cancelled(string sweepId, TrialPlan plan, string why)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Ended(sweepId, plan.TrialId, plan.Params, TrialStatus.Cancelled, why);
    }
}
