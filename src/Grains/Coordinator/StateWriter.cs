using Orleans.Runtime;
using Sweep.Core.Models;
using Sweep.Core.Sweeps;
using Sweep.Grains.Resilience;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// Writes a sweep's record, one write at a time (results taken in meanwhile make the next one), at most about once a
/// second while it runs (a grain timer flushes what waits), at once when it finishes; and now and then (every 10 s, and
/// when it finishes) its line in the sweep registry.
/// </summary>
internal sealed class StateWriter(IPersistentState<SweepRecord> state, SweepResilience resilience, IGrainFactory grains)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RegistryInterval = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DateTime _lastWrite = DateTime.MinValue;
    private DateTime _registryAt = DateTime.MinValue;
    private IGrainTimer? _flush;

    private bool Due(SweepRun run) => run.IsFinished || DateTime.UtcNow - _lastWrite >= Interval;

    /// <summary>Writes the record now, and the registry's line when it is due.</summary>
    public async Task WriteAsync(SweepRun run, Func<SweepStatus> status)
    {
        if (run.Phase == SweepPhase.Deleted) return;
        await _gate.WaitAsync();
        try
        {
            if (run.Phase == SweepPhase.Deleted) return;
            _lastWrite = DateTime.UtcNow;
            state.State = run.Save();
            await resilience.StorageWrite.RunOnGrainAsync(_ => state.WriteStateAsync(), CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
        if (run.Phase != SweepPhase.Deleted && (run.IsFinished || DateTime.UtcNow - _registryAt >= RegistryInterval))
        {
            _registryAt = DateTime.UtcNow;
            var s = status();
            await grains.GetGrain<ISweepRegistryGrain>(0).AddAsync(new SweepSummary(s.SweepId, s.Name, s.CreatedAt)
            {
                State = s.State, Done = s.Done, Total = s.Total, FinishedAt = s.FinishedAt,
            });
        }
    }

    /// <summary>Writes a changed record if a write is due (the sweep finished, or a second passed since the last).</summary>
    public Task WriteIfDueAsync(SweepRun run, Func<SweepStatus> status) =>
        run.Dirty && Due(run) ? WriteAsync(run, status) : Task.CompletedTask;

    /// <summary>Writes now if due, else within a second (a timer of <paramref name="grain"/> flushes the change).</summary>
    public Task WriteSoonAsync(IGrainBase grain, SweepRun run, Func<SweepStatus> status)
    {
        if (Due(run)) return WriteAsync(run, status);
        _flush ??= grain.RegisterGrainTimer(async () =>
        {
            if (run.Dirty) await WriteAsync(run, status);
        }, new GrainTimerCreationOptions(Interval, Interval) { Interleave = false, KeepAlive = false });
        return Task.CompletedTask;
    }

    /// <summary>Removes the record (a deleted sweep), after any write on its way; stops the flushing.</summary>
    public async Task ClearAsync()
    {
        _flush?.Dispose();
        _flush = null;
        await _gate.WaitAsync();
        try
        {
            if (state.State.Spec is not null)
                await resilience.StorageWrite.RunOnGrainAsync(_ => state.ClearStateAsync(), CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }
}
