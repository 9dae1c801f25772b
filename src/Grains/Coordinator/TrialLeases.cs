using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Sweep.Core.Telemetry;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// Where a sweep's trials in flight run and when each was last heard from. While the sweep runs it follows cluster
/// membership (the trials of a silo declared dead are started again elsewhere) and, every 20 s, a lease check asks again
/// the trials nothing was heard from for a minute (a report lost on the way) or whose start failed.
/// </summary>
internal sealed class TrialLeases(IClusterMembershipService membership, ILogger logger)
{
    private static readonly TimeSpan CheckPeriod = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private readonly Dictionary<string, SiloAddress> _placedOn = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _heardAt = new(StringComparer.Ordinal);
    private IGrainTimer? _check;
    private CancellationTokenSource? _watching;

    /// <summary>A trial's grain said where it runs.</summary>
    public void Placed(string trialId, SiloAddress silo, DateTime now)
    {
        _placedOn[trialId] = silo;
        _heardAt[trialId] = now;
    }

    /// <summary>A trial's start went unanswered: the next lease check asks again.</summary>
    public void Unanswered(string trialId) => _heardAt[trialId] = DateTime.MinValue;

    /// <summary>A trial reported progress.</summary>
    public void Heard(string trialId, DateTime now)
    {
        if (_heardAt.ContainsKey(trialId)) _heardAt[trialId] = now;
    }

    public bool IsPlaced(string trialId) => _placedOn.ContainsKey(trialId);

    /// <summary>A trial is done: nothing more to follow.</summary>
    public void Forget(string trialId)
    {
        _placedOn.Remove(trialId);
        _heardAt.Remove(trialId);
    }

    /// <summary>Trials in flight nothing was heard from within the lease (or whose start failed).</summary>
    public string[] Silent(IEnumerable<string> inFlight, DateTime now)
    {
        var cutoff = now - Lease;
        return inFlight.Where(id => !_heardAt.TryGetValue(id, out var at) || at < cutoff).ToArray();
    }

    /// <summary>
    /// Starts the lease check (<paramref name="check"/>, a timer of <paramref name="grain"/>) and the membership watch,
    /// which hands the trials of a dead silo to <paramref name="restart"/>; either that runs already stays.
    /// </summary>
    public void Watch(IGrainBase grain, string sweepId, Func<CancellationToken, Task> check, Func<IReadOnlyList<string>, Task> restart)
    {
        _check ??= grain.RegisterGrainTimer(check,
            new GrainTimerCreationOptions(CheckPeriod, CheckPeriod) { Interleave = true, KeepAlive = true });
        if (_watching is not null) return;
        _watching = new CancellationTokenSource();
        _ = FollowMembershipAsync(sweepId, restart, _watching.Token);
    }

    /// <summary>The membership watch stopped on an error: the lease check starts it again.</summary>
    public bool WatchLost => _watching is null;

    /// <summary>Stops the lease check and the membership watch (the sweep finished, or the grain deactivates).</summary>
    public void Stop()
    {
        _watching?.Cancel();
        _watching = null;
        _check?.Dispose();
        _check = null;
    }

    private async Task FollowMembershipAsync(string sweepId, Func<IReadOnlyList<string>, Task> restart, CancellationToken stop)
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stop))
            {
                var dead = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToHashSet();
                var lost = _placedOn.Where(kv => dead.Contains(kv.Value)).Select(kv => kv.Key).ToArray();
                if (lost.Length == 0) continue;
                foreach (var id in lost) _placedOn.Remove(id);
                logger.LogWarning("Sweep {Sweep}: {Count} trial(s) ran on a silo declared dead; starting them again", sweepId, lost.Length);
                SweepTelemetry.TrialsRestarted.Add(lost.Length);
                await restart(lost);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            logger.LogWarning("Sweep {Sweep}: following membership failed ({Reason}); the lease check still runs", sweepId, e.Message);
            _watching = null;
        }
    }
}
