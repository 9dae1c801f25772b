using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sweep.Core.Models;

namespace Sweep.Grains;

[GenerateSerializer, Alias("Sweep.SweepRegistryState")]
public sealed class SweepRegistryState
{
    [Id(0)] public List<SweepSummary> Sweeps { get; set; } = [];
}

/// <summary>How long the cluster keeps finished sweeps (section "Sweep": Sweep:RetainFinished).</summary>
public sealed class SweepRetentionOptions
{
    /// <summary>Finished (completed or cancelled) sweeps are deleted this long after they finished; null = kept until deleted.</summary>
    public TimeSpan? RetainFinished { get; set; }

    public string? Validate() => RetainFinished is { } r && r <= TimeSpan.Zero ? "Sweep:RetainFinished must be positive" : null;
}

/// <summary>
/// The list of sweeps, persisted so `sweep list` survives restarts; each coordinator keeps its entry current (state and
/// counts, at most every 10 s while it runs). With a retention set, a reminder deletes finished sweeps older than it.
/// </summary>
public sealed class SweepRegistryGrain(
    [PersistentState("registry", SweepStorage.Name)] IPersistentState<SweepRegistryState> state,
    IOptions<SweepRetentionOptions> retention,
    ILogger<SweepRegistryGrain> logger) : Grain, ISweepRegistryGrain, IRemindable
{
    private const string RetentionReminder = "sweep-retention";
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public async Task AddAsync(SweepSummary sweep)
    {
        int at = state.State.Sweeps.FindIndex(s => s.SweepId == sweep.SweepId);
        if (at >= 0 && state.State.Sweeps[at] == sweep) return;
        if (at >= 0) state.State.Sweeps[at] = sweep;
        else state.State.Sweeps.Add(sweep);
        await WriteAsync();
        if (sweep.FinishedAt is not null && retention.Value.RetainFinished is { } keep)
        {
            // Checked a tenth of the retention apart (between a minute and an hour).
            var period = TimeSpan.FromTicks(Math.Clamp(keep.Ticks / 10, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromHours(1).Ticks));
            await this.RegisterOrUpdateReminder(RetentionReminder, period, period);
        }
    }

    public async Task RemoveAsync(string sweepId)
    {
        if (state.State.Sweeps.RemoveAll(s => s.SweepId == sweepId) > 0) await WriteAsync();
    }

    /// <summary>One write at a time (the retention's deletions finish between other calls).</summary>
    private async Task WriteAsync()
    {
        await _writeGate.WaitAsync();
        try { await state.WriteStateAsync(); }
        finally { _writeGate.Release(); }
    }

    public Task<IReadOnlyList<SweepSummary>> ListAsync() => Task.FromResult<IReadOnlyList<SweepSummary>>(state.State.Sweeps.ToArray());

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (retention.Value.RetainFinished is not { } keep) return Task.CompletedTask;
        var cutoff = DateTimeOffset.UtcNow - keep;
        foreach (var expired in state.State.Sweeps.Where(s => s.FinishedAt is { } f && f < cutoff).ToArray())
        {
            logger.LogInformation("Sweep {Sweep} finished {At:u}, longer ago than the retention ({Keep}): deleting it",
                expired.SweepId, expired.FinishedAt, keep);
            // Not awaited in this turn: the coordinator removes its entry here when it is done (a call this turn would block).
            _ = DeleteAsync(expired.SweepId);
        }
        return Task.CompletedTask;
    }

    private async Task DeleteAsync(string sweepId)
    {
        try
        {
            // A coordinator without state (gone already) answers false: its entry goes here.
            if (!await GrainFactory.GetGrain<ISweepCoordinatorGrain>(sweepId).DeleteAsync()) await RemoveAsync(sweepId);
        }
        catch (Exception e)
        {
            logger.LogWarning("Deleting expired sweep {Sweep} failed ({Reason}); the next check tries again", sweepId, e.Message);
        }
    }
}
