using Orleans.Concurrency;
using Orleans.Runtime;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>A trial grain's answer to Start: the silo it runs on, and its result when it already has one.</summary>
[GenerateSerializer, Immutable, Alias("Sweep.TrialStart")]
public sealed record TrialStart(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] string SiloName,
    [property: Id(2)] TrialResult? Result);
