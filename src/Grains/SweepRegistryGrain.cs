using Sweep.Core.Models;

namespace Sweep.Grains;

[GenerateSerializer, Alias("Sweep.SweepRegistryState")]
public sealed class SweepRegistryState
{
    [Id(0)] public List<SweepSummary> Sweeps { get; set; } = [];
}

/// <summary>The list of sweeps, persisted so `sweep list` survives restarts.</summary>
public sealed class SweepRegistryGrain(
    [PersistentState("registry", SweepStorage.Name)] IPersistentState<SweepRegistryState> state) : Grain, ISweepRegistryGrain
{
    public async Task AddAsync(SweepSummary sweep)
    {
        if (state.State.Sweeps.Any(s => s.SweepId == sweep.SweepId)) return;
        state.State.Sweeps.Add(sweep);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<SweepSummary>> ListAsync() => Task.FromResult<IReadOnlyList<SweepSummary>>(state.State.Sweeps.ToArray());
}
