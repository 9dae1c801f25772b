namespace Sweep.Training.Pruning;

/// <summary>
/// When pruning happens and how much: T optimizer steps, ramp R = floor(rampFraction·T); an event after step t
/// when t ≤ R and (t mod interval = 0 or t = R), with target sparsity s(t) = rate·(1 − (1 − t/R)³).
/// </summary>
public sealed class PruningSchedule
{
    public long TotalSteps { get; }
    public long RampSteps { get; }
    public int Interval { get; }
    public double Rate { get; }

    public PruningSchedule(long totalSteps, double rampFraction, int interval, double rate)
    {
        if (interval <= 0) throw new ArgumentOutOfRangeException(nameof(interval), "interval must be positive");
        TotalSteps = totalSteps;
        RampSteps = (long)Math.Floor(rampFraction * totalSteps);
        Interval = interval;
        Rate = rate;
    }

    public bool IsEvent(long step) =>
        RampSteps > 0 && step >= 1 && step <= RampSteps && (step % Interval == 0 || step == RampSteps);

    public double TargetSparsity(long step)
    {
        if (RampSteps <= 0) return 0;
        double progress = Math.Min(1.0, (double)step / RampSteps);
        double remaining = 1 - progress;
        return Rate * (1 - remaining * remaining * remaining);
    }

    /// <summary>k = |A| − round((1 − s)·N): how many alive entries to prune to reach sparsity s.</summary>
    public static long EntriesToPrune(long alive, long total, double sparsity) =>
        alive - (long)Math.Round((1 - sparsity) * total, MidpointRounding.ToEven);
}
