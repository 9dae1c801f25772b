using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>
/// A silo refused a submitted spec (a field out of range, a dataset outside the data roots, over a cluster limit): a
/// deterministic answer, never retried. <see cref="Field"/> names the spec field, as the command line's messages do.
/// </summary>
[GenerateSerializer, Alias("Sweep.SweepRefusedException")]
public sealed class SweepRefusedException : Exception
{
    public SweepRefusedException(string field, string reason) : base($"{field}: {reason}")
    {
        Field = field;
        Reason = reason;
    }

    [Id(0)] public string Field { get; private set; }
    [Id(1)] public string Reason { get; private set; }
}
