using Orleans.Concurrency;
using Sweep.Core.Models;

namespace Sweep.Grains;

/// <summary>
/// A method clients may call (the public sweep API). On a silo with a cluster key (Sweep:ClusterKey) every other method
/// of Sweep's grains answers only calls that carry the key: calls made by silos.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ClientCallableAttribute : Attribute;
