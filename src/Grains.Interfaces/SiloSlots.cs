using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>
/// A silo's training slots: trial places (<see cref="Capacity"/> = slots × fusion width), how many are busy and for which
/// sweeps, the training slots themselves (threads of training), and the models whose trials its slots train fused
/// (the engine's model families decide; the coordinator reads it here instead of asking the engine).
/// </summary>
[GenerateSerializer, Immutable, Alias("Sweep.SiloSlots")]
public sealed record SiloSlots(
    [property: Id(0)] int Capacity,
    [property: Id(1)] int Busy,
    [property: Id(2)] IReadOnlyDictionary<string, int> BusyBySweep,
    [property: Id(3)] int TrainingSlots,
    [property: Id(4)] IReadOnlyList<string>? FusingModels = null,
    [property: Id(5)] long Arrived = 0,
    [property: Id(6)] int Waiting = 0)
{
    /// <summary>Whether this silo trains trials of <paramref name="model"/> fused (several in one slot).</summary>
    public bool Fuses(string model) =>
        ModelSpec.TryParse(model, out _) is { } spec && FusingModels?.Contains(ModelSpec.FusingKey(spec)) == true;

    /// <summary>Places busy for sweeps other than <paramref name="sweepId"/>.</summary>
    public int BusyForOthers(string sweepId) => BusyBySweep.Where(kv => kv.Key != sweepId).Sum(kv => kv.Value);
}
