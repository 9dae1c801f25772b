using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>
/// A sweep id that is taken by a sweep of another spec (a submit that named an existing sweep): deterministic, never
/// retried; the HTTP API answers it 409.
/// </summary>
[GenerateSerializer, Alias("Sweep.SweepConflictException")]
public sealed class SweepConflictException : Exception
{
    public SweepConflictException(string sweepId)
        : base($"a sweep '{sweepId}' exists with another spec (submit the same spec to get it, or choose another id)") =>
        SweepId = sweepId;

    [Id(0)] public string SweepId { get; private set; }
}
