using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains.Results;

/// <summary>A sweep's results in a grain's memory: the store of a localhost cluster (lost when its silo stops, like the rest).</summary>
[Alias("Sweep.ISweepResultsGrain")]
public interface ISweepResultsGrain : IGrainWithStringKey
{
    [Alias("Append")]
    Task<bool[]> AppendAsync(IReadOnlyList<IndexedResult> results);

    [Alias("Read"), ReadOnly]
    Task<IReadOnlyList<TrialResult>> ReadAsync(long from, int max);

    [Alias("Count"), ReadOnly]
    Task<long> CountAsync();

    [Alias("Clear")]
    Task ClearAsync();
}

public sealed class SweepResultsGrain : Grain, ISweepResultsGrain
{
    private readonly List<TrialResult> _results = [];
    private readonly HashSet<int> _stored = [];

    public Task<bool[]> AppendAsync(IReadOnlyList<IndexedResult> results)
    {
        // Held in memory until the silo stops: an idle sweep's results must not go with a collected activation.
        DelayDeactivation(TimeSpan.FromDays(3650));
        var fresh = new bool[results.Count];
        for (int i = 0; i < results.Count; i++)
        {
            if (!_stored.Add(results[i].Index)) continue;
            _results.Add(results[i].Result);
            fresh[i] = true;
        }
        return Task.FromResult(fresh);
    }

    public Task<IReadOnlyList<TrialResult>> ReadAsync(long from, int max)
    {
        int start = (int)Math.Clamp(from, 0, _results.Count);
        int count = Math.Clamp(max, 0, _results.Count - start);
        return Task.FromResult<IReadOnlyList<TrialResult>>(_results.GetRange(start, count));
    }

    public Task<long> CountAsync() => Task.FromResult((long)_results.Count);

    public Task ClearAsync()
    {
        _results.Clear();
        _stored.Clear();
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>The store of a localhost cluster: each sweep's results in one <see cref="SweepResultsGrain"/>.</summary>
public sealed class GrainResultStore(IGrainFactory grains) : ISweepResultStore
{
    private ISweepResultsGrain Grain(string sweepId) => grains.GetGrain<ISweepResultsGrain>(sweepId);

    public Task<bool[]> AppendAsync(string sweepId, IReadOnlyList<IndexedResult> results) =>
        results.Count == 0 ? Task.FromResult(Array.Empty<bool>()) : Grain(sweepId).AppendAsync(results);

    public Task<IReadOnlyList<TrialResult>> ReadAsync(string sweepId, long from, int max) => Grain(sweepId).ReadAsync(from, max);

    public Task<long> CountAsync(string sweepId) => Grain(sweepId).CountAsync();

    public Task DeleteAsync(string sweepId) => Grain(sweepId).ClearAsync();
}
