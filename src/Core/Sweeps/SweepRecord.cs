using Sweep.Core.Models;

namespace Sweep.Core.Sweeps;

/// <summary>
/// What a sweep persists, in one record: the spec, the book (done set, counts, fronts), timing, how it stopped and how far
/// the result store is covered. Its size does not grow with the sweep: plans are expanded again from the spec, results
/// live in the sweep's result store. (Its wire name is the coordinator state's of earlier releases, which it reads.)
/// </summary>
[GenerateSerializer, Alias("Sweep.SweepGrainState")]
public sealed class SweepRecord
{
    [Id(0)] public SweepSpec? Spec { get; set; }
    /// <summary>Before results moved out of this state: the plan. Read once to migrate such a sweep, then emptied.</summary>
    [Id(1)] public List<TrialPlan> Plans { get; set; } = [];
    /// <summary>Before results moved out of this state: every finished trial. Moved to the result store on activation.</summary>
    [Id(2)] public List<TrialResult> Results { get; set; } = [];
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>No more trials start (cancelled by a client, or the budget is spent); see <see cref="StopReason"/>.</summary>
    [Id(5)] public bool Cancelled { get; set; }
    /// <summary>The sweep span's traceparent: every trial span of the sweep is its child, across moves and restarts.</summary>
    [Id(6)] public string? TraceParent { get; set; }
    /// <summary>The done set, outcome counts and fronts; null in a state written before results moved out.</summary>
    [Id(7)] public BookState? Book { get; set; }
    /// <summary>How many of the store's results this state covers: a new activation reads the store from here on.</summary>
    [Id(8)] public long Stored { get; set; }
    /// <summary>Trial-epochs of the trials started so far (each start charges its trial's epochs to the budget).</summary>
    [Id(9)] public long EpochsCharged { get; set; }
    /// <summary>Why the sweep stopped before its end, when it did (cancelled by a client, or its budget spent).</summary>
    [Id(10)] public string? StopReason { get; set; }

    /// <summary>Written by a release before results moved to the result store (<see cref="Book"/> is null).</summary>
    public bool IsLegacy => Spec is not null && Book is null;
}
