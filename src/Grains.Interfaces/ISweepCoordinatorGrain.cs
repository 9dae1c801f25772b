using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>One per sweep (keyed by the sweep id): expands the spec, fans trials out, aggregates the fronts.</summary>
[Alias("Sweep.ISweepCoordinatorGrain")]
public interface ISweepCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the sweep. Trials in <paramref name="completed"/> whose id and parameters match a planned trial are kept
    /// and not run again. Submitting an existing sweep again changes nothing and returns its status.
    /// </summary>
    [Alias("Submit")]
    Task<SweepStatus> SubmitAsync(SweepSpec spec, IReadOnlyList<TrialResult> completed);

    /// <summary>Null when no sweep has this id.</summary>
    [Alias("GetStatus")]
    Task<SweepStatus?> GetStatusAsync();

    [Alias("GetFront")]
    Task<FrontReport?> GetFrontAsync();

    /// <summary>Finished trials (completed, failed, cancelled) in the order they finished, from index <paramref name="from"/>.</summary>
    [Alias("GetResults")]
    Task<IReadOnlyList<TrialResult>> GetResultsAsync(int from, int max);

    [Alias("GetSpec")]
    Task<SweepSpec?> GetSpecAsync();

    /// <summary>Stops running trials and starts no more.</summary>
    [Alias("Cancel")]
    Task<SweepStatus?> CancelAsync();

    /// <summary>A trial finished an epoch (progress only; fire and forget).</summary>
    [OneWay, Alias("ReportEpoch")]
    Task ReportEpochAsync(string trialId, EpochRecord epoch, string silo);

    /// <summary>A trial finished: completed, failed or cancelled.</summary>
    [Alias("ReportResult")]
    Task ReportResultAsync(TrialResult result);
}

/// <summary>The list of sweeps the cluster knows (key 0).</summary>
[Alias("Sweep.ISweepRegistryGrain")]
public interface ISweepRegistryGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task AddAsync(SweepSummary sweep);

    [Alias("List")]
    Task<IReadOnlyList<SweepSummary>> ListAsync();
}

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
    [property: Id(4)] IReadOnlyList<string>? FusingModels = null)
{
    /// <summary>Whether this silo trains trials of <paramref name="model"/> fused (several in one slot).</summary>
    public bool Fuses(string model) =>
        ModelSpec.TryParse(model, out _) is { } spec && FusingModels?.Contains(ModelSpec.FusingKey(spec)) == true;

    /// <summary>Places busy for sweeps other than <paramref name="sweepId"/>.</summary>
    public int BusyForOthers(string sweepId) => BusyBySweep.Where(kv => kv.Key != sweepId).Sum(kv => kv.Value);
}

/// <summary>The cluster's training slots as the silos advertise them (key 0).</summary>
[Alias("Sweep.ISlotRegistryGrain")]
public interface ISlotRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>A silo's slots (sent at start and then every couple of seconds).</summary>
    [Alias("Advertise")]
    Task AdvertiseAsync(string silo, SiloSlots slots);

    /// <summary>The slots of every silo that is alive now, keyed by silo address.</summary>
    [Alias("GetSlots")]
    Task<IReadOnlyDictionary<string, SiloSlots>> GetSlotsAsync();
}
