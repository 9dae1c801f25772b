using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Sweep.Grains.Slots;

/// <summary>
/// A silo's epoch progress, one message per sweep per second: trials note their latest epoch here (from the training
/// thread) and the loop sends each sweep's coordinator the batch. At 1,000 results/s × 20 epochs the coordinators then
/// take a few messages a second per silo instead of 20,000.
/// </summary>
public sealed class ProgressReporter(IGrainFactory grains, ILocalSiloDetails silo, ILogger<ProgressReporter> logger)
    : SiloLoop(logger)
{
    private ConcurrentDictionary<string, ConcurrentDictionary<string, int>> _pending = new(StringComparer.Ordinal);

    protected override TimeSpan Period => TimeSpan.FromSeconds(1);

    /// <summary>A trial of a sweep finished an epoch (thread-safe; the latest epoch of a trial wins).</summary>
    public void Report(string sweepId, string trialId, int epoch) =>
        _pending.GetOrAdd(sweepId, _ => new ConcurrentDictionary<string, int>(StringComparer.Ordinal))
            .AddOrUpdate(trialId, epoch, (_, before) => Math.Max(before, epoch));

    protected override Task TickAsync(CancellationToken stop)
    {
        if (_pending.IsEmpty) return Task.CompletedTask;
        var batch = Interlocked.Exchange(ref _pending, new(StringComparer.Ordinal));
        foreach (var (sweepId, trials) in batch)
        {
            var epochs = trials.Select(t => new TrialEpoch(t.Key, t.Value)).ToArray();
            grains.GetGrain<ISweepCoordinatorGrain>(sweepId).ReportProgressAsync(silo.Name, epochs).Ignore();
        }
        return Task.CompletedTask;
    }
}
