using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>A silo refused a call: a client without the cluster's credential, or a client calling an internal method.</summary>
[GenerateSerializer, Alias("Sweep.SweepAccessDeniedException")]
public sealed class SweepAccessDeniedException : Exception
{
    public SweepAccessDeniedException(string message) : base(message) { }
}
