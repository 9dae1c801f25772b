using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>The request-context keys Sweep's credentials travel in.</summary>
public static class SweepCredentials
{
    /// <summary>The client credential (Sweep:ClientToken on silos; SWEEP_TOKEN or --token-file on clients).</summary>
    public const string ClientToken = "sweep-client-token";
    /// <summary>The silos' shared secret (Sweep:ClusterKey), added by silos to every call they make.</summary>
    public const string ClusterKey = "sweep-cluster-key";
}
