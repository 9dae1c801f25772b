using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Sweep.Core;
using Sweep.Core.Models;

namespace Sweep.Grains.Security;

/// <summary>The silo's credentials (section "Sweep"): both secrets, normally from a Kubernetes Secret.</summary>
public sealed class SweepSecurityOptions : IValidatedOptions
{
    /// <summary>
    /// The secret every silo of the cluster shares: silos add it to each call they make, and Sweep's internal methods
    /// (trial reports, slot adverts, trial control) answer only calls that carry it. Unset: no such check (a laptop).
    /// </summary>
    public string? ClusterKey { get; set; }
    /// <summary>The client credential: clients must send it with every call (SWEEP_TOKEN). Unset: clients need none.</summary>
    public string? ClientToken { get; set; }

    public string? Validate()
    {
        if (ClusterKey is { Length: < 16 }) return "Sweep:ClusterKey must be at least 16 characters";
        if (ClientToken is { Length: < 16 }) return "Sweep:ClientToken must be at least 16 characters";
        if (ClusterKey is not null && ClusterKey == ClientToken) return "Sweep:ClusterKey and Sweep:ClientToken must differ";
        // Without a key, "from a silo" rests on the caller's own claim of its id: a token alone would be easy to bypass.
        if (ClientToken is not null && ClusterKey is null) return "Sweep:ClientToken needs Sweep:ClusterKey too";
        return null;
    }
}

/// <summary>
/// Who may call what on Sweep's grains. Outgoing (the silo's own calls): adds the cluster key. Incoming: a call that
/// carries the cluster key comes from a silo and may call anything; any other call is a client's: it may call only
/// methods marked <see cref="ClientCallableAttribute"/> (the public sweep API), with the client token when the silo has
/// one, and may not hand results in with a submit. Orleans' own system calls pass untouched.
/// Without a cluster key, a call counts as a client's when its source is an external client's id; that id is the
/// client's own claim, so only the cluster key makes this a security boundary (README, "Security model").
/// </summary>
public sealed class SweepCallFilter(IOptions<SweepSecurityOptions> options) : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
{
    private static readonly Assembly Ours = typeof(ISweepCoordinatorGrain).Assembly;
    private static readonly Assembly OurGrains = typeof(SweepCallFilter).Assembly;
    private static readonly ConcurrentDictionary<MethodInfo, bool> Callable = new();
    private readonly string? _clusterKey = options.Value.ClusterKey;
    private readonly string? _clientToken = options.Value.ClientToken;

    public Task Invoke(IIncomingGrainCallContext context)
    {
        // Ours: a method of Sweep's interfaces, or any call that lands on one of Sweep's grains (an interface of the
        // Grains assembly, or an Orleans extension such as grain management on a trial grain).
        bool ours = context.InterfaceMethod?.DeclaringType?.Assembly == Ours
            || context.TargetContext?.GrainInstance?.GetType().Assembly == OurGrains;
        // Orleans' management grain lists every activation and can force collection: the cluster's own business.
        if (context.InterfaceMethod?.DeclaringType == typeof(IManagementGrain) && !FromSilo(context))
            throw new SweepAccessDeniedException(
                $"{context.InterfaceName}.{context.MethodName} is internal to the cluster: clients may not call it");
        if (!ours || FromSilo(context)) return context.Invoke();
        var method = context.InterfaceMethod;
        if (method is null || method.DeclaringType?.Assembly != Ours
            || !Callable.GetOrAdd(method, m => m.GetCustomAttribute<ClientCallableAttribute>() is not null))
            throw new SweepAccessDeniedException(
                $"{context.InterfaceName}.{context.MethodName} is internal to the cluster: clients may not call it");
        if (_clientToken is not null && !Matches(RequestContext.Get(SweepCredentials.ClientToken), _clientToken))
            throw new SweepAccessDeniedException(
                "this cluster requires a client credential (SWEEP_TOKEN or --token-file), and the call carried none or a wrong one");
        if (_clusterKey is not null && method.Name == nameof(ISweepCoordinatorGrain.SubmitAsync)
            && context.Request.GetArgument(1) is IReadOnlyList<TrialResult> { Count: > 0 })
            throw new SweepAccessDeniedException("clients may not hand in trial results on this cluster (submit without them)");
        return context.Invoke();
    }

    // Without a key (a laptop's cluster) the silo's own calls pass as they are, with no state machine of ours.
    public Task Invoke(IOutgoingGrainCallContext context) => _clusterKey is null ? context.Invoke() : WithKeyAsync(context);

    private async Task WithKeyAsync(IOutgoingGrainCallContext context)
    {
        // Only for this call: the key is taken out of the ambient context again once the call is sent and answered.
        object? before = RequestContext.Get(SweepCredentials.ClusterKey);
        RequestContext.Set(SweepCredentials.ClusterKey, _clusterKey!);
        try { await context.Invoke(); }
        finally
        {
            if (before is null) RequestContext.Remove(SweepCredentials.ClusterKey);
            else RequestContext.Set(SweepCredentials.ClusterKey, before);
        }
    }

    private bool FromSilo(IIncomingGrainCallContext context)
    {
        if (_clusterKey is not null) return Matches(RequestContext.Get(SweepCredentials.ClusterKey), _clusterKey);
        // No key: grains, system targets and a silo's hosted client ("hosted-…") are the silo's; other clients are not.
        return context.SourceId is not { } source || !source.IsClient()
            || source.Key.ToString().StartsWith("hosted-", StringComparison.Ordinal);
    }

    // Constant time over the characters' bytes, without allocating on the call path.
    private static bool Matches(object? given, string expected) =>
        given is string text && CryptographicOperations.FixedTimeEquals(
            MemoryMarshal.AsBytes(text.AsSpan()), MemoryMarshal.AsBytes(expected.AsSpan()));
}
