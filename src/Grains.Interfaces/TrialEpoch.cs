using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>The latest epoch a trial finished (an entry of a silo's progress batch).</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialEpoch")]
public readonly record struct TrialEpoch([property: Id(0)] string TrialId, [property: Id(1)] int Epoch);
