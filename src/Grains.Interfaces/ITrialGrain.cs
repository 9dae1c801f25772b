using Orleans.Concurrency;
using Orleans.Runtime;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>Owns exactly one trial: trains it at most once at a time, reports epochs and the result to its coordinator.</summary>
[Alias("Sweep.ITrialGrain")]
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the trial in the background and returns at once where it runs, with its stored result when it already
    /// finished (starting a finished trial never runs it again until it is told to forget it).
    /// </summary>
    [Alias("Start")]
    Task<TrialStart> StartAsync(TrialRequest request);

    /// <summary>The coordinator has stored the result: the trial drops its copy (and its state) and deactivates.</summary>
    [OneWay, Alias("Forget")]
    Task ForgetAsync();

    /// <summary>Stops a running trial between optimizer steps; it then reports itself cancelled.</summary>
    [Alias("Cancel")]
    Task CancelAsync();
}
