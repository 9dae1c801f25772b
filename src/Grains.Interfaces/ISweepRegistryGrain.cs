using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>
/// The list of sweeps the cluster knows (key 0), with their state as their coordinators last told it: `sweep list`
/// reads this, not every coordinator. Finished sweeps older than the retention (Sweep:RetainFinished) are deleted.
/// </summary>
[Alias("Sweep.ISweepRegistryGrain")]
public interface ISweepRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a sweep, or updates its entry.</summary>
    [Alias("Add")]
    Task AddAsync(SweepSummary sweep);

    [Alias("Remove")]
    Task RemoveAsync(string sweepId);

    [Alias("List"), AlwaysInterleave, ClientCallable]
    Task<IReadOnlyList<SweepSummary>> ListAsync();
}
