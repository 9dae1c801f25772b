using System.Globalization;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Core.Sweeps;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>
/// A sweep's whole decision logic without a cluster: the caller plays the coordinator grain (it stores what it is told to
/// store and hands the stored results back) and the trials (it reports their results).
/// </summary>
public sealed class SweepRunTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static SweepSpec Grid(string more = "", int rates = 4) => SpecParser.Parse($$"""
        { "name": "run", "training": { "epochs": 3 }{{more}},
          "search": { "strategy": "grid", "space": { "pruneRate": [{{Rates(rates)}}] } } }
        """, null);

    private static string Rates(int n) =>
        string.Join(", ", Enumerable.Range(1, n).Select(i => (i / 10.0).ToString("0.0#", CultureInfo.InvariantCulture)));

    private static SweepRun New(SweepSpec spec, IReadOnlyList<TrialResult>? completed = null)
    {
        var (run, keep) = SweepRun.Submit("s", new SweepRecord(), spec, SearchSpace.Expand(spec), completed ?? [], T0);
        Store(run, keep);
        return run;
    }

    /// <summary>What the grain does with results to store: the store takes the new ones, the run counts them.</summary>
    private static void Store(SweepRun run, IReadOnlyList<TrialResult> results, HashSet<string>? store = null)
    {
        store ??= [];
        while (results.Count > 0)
        {
            int fresh = results.Count(r => store.Add(r.TrialId));
            results = run.Stored(results, fresh);
        }
    }

    private static TrialResult Completed(TrialPlan plan, double accuracy = 0.9) => new()
    {
        TrialId = plan.TrialId, SweepId = "s", Status = TrialStatus.Completed, Params = plan.Params,
        Accuracy = accuracy, WeightSparsity = plan.Params.PruneRate, NodeSparsity = 0.1,
    };

    [Fact]
    public void A_spent_budget_stops_the_sweep_its_waiting_trials_cancelled_with_the_reason_and_it_ends_when_the_running_finish()
    {
        var run = New(Grid(""", "trialEpochBudget": 6"""));   // 3 epochs a trial: two trials
        var first = run.TakeStarts(10);
        Assert.Equal(2, first.Start.Count);
        Assert.Empty(first.Stopped);
        var second = run.TakeStarts(10);
        Assert.True(second.BudgetSpent);
        Assert.Empty(second.Start);
        Assert.Equal(2, second.Stopped.Count);
        Assert.All(second.Stopped, r => Assert.Equal(TrialStatus.Cancelled, r.Status));
        const string Reason = "budget spent: 6 of trialEpochBudget 6 trial-epochs started, 2 trial(s) not started";
        Assert.All(second.Stopped, r => Assert.Equal(Reason, r.Error));
        Assert.Equal(SweepPhase.Draining, run.Phase);
        Store(run, second.Stopped);
        Assert.False(run.TryFinish(T0));   // two trials still run, paid for
        foreach (var plan in first.Start)
        {
            Assert.Equal(ReportAction.Store, run.OnReport(Completed(plan)));
            Store(run, [Completed(plan)]);
        }
        Assert.True(run.TryFinish(T0.AddMinutes(1)));
        var status = run.Status(DateTime.UtcNow, 2, "silo");
        Assert.Equal((SweepState.Cancelled, 2, 2, 4), (status.State, status.Completed, status.Cancelled, status.Done));
        Assert.Equal(Reason, status.Reason);
        Assert.Equal(6, run.Record.EpochsCharged);
    }

    [Fact]
    public void Cancel_stores_the_waiting_trials_as_cancelled_starts_none_again_and_the_running_ones_end_the_sweep()
    {
        var run = New(Grid());
        var started = run.TakeStarts(2).Start;
        var cancelled = run.Cancel("cancelled by a client");
        Assert.Equal(2, cancelled.Count);
        Assert.Equal(SweepPhase.Draining, run.Phase);
        Assert.False(run.CanStart);
        Assert.Empty(run.TakeStarts(5).Start);
        Store(run, cancelled);
        // A running trial lost with its silo is not started again but recorded cancelled.
        var lost = run.NotRestarted([started[0].TrialId]);
        Assert.Equal(TrialStatus.Cancelled, Assert.Single(lost).Status);
        Store(run, lost);
        Assert.False(run.TryFinish(T0));
        // The other one ends as the cancel told it to.
        var stopped = TrialOutcome.Ended("s", started[1].TrialId, started[1].Params, TrialStatus.Cancelled, "cancelled");
        Assert.Equal(ReportAction.Store, run.OnReport(stopped));
        Store(run, [stopped]);
        Assert.True(run.TryFinish(T0));
        Assert.Equal(SweepPhase.Finished, run.Phase);
        var status = run.Status(DateTime.UtcNow, 1, "silo");
        Assert.Equal((SweepState.Cancelled, 4, "cancelled by a client"), (status.State, status.Cancelled, status.Reason));
        Assert.Empty(run.Cancel("again"));   // finished: nothing to cancel
    }

    [Fact]
    public void A_cancel_with_every_trial_in_flight_shows_in_the_status_at_once()
    {
        var run = New(Grid(rates: 2));
        run.TakeStarts(2);
        var now = DateTime.UtcNow;
        Assert.Equal(SweepState.Running, run.Status(now, 2, "silo").State);
        Assert.Empty(run.Cancel("cancelled by a client"));   // nothing waits
        // Within the snapshot's second: a new one all the same, since the run changed.
        var status = run.Status(now, 2, "silo");
        Assert.Equal((SweepState.Cancelled, "cancelled by a client"), (status.State, status.Reason));
    }

    [Fact]
    public void A_budget_spent_with_no_trial_left_waiting_still_stops_the_sweep()
    {
        var run = New(Grid(""", "trialEpochBudget": 6"""));
        var first = run.TakeStarts(2).Start;
        // The two waiting trials ran before a coordinator move: their results arrive while they wait.
        var plans = run.Book.Plans;
        Store(run, [Completed(plans[2]), Completed(plans[3])]);
        var stop = run.TakeStarts(2);
        Assert.True(stop.BudgetSpent);
        Assert.Empty(stop.Stopped);
        Assert.Equal(SweepPhase.Draining, run.Phase);
        Store(run, [.. first.Select(p => Completed(p))]);
        Assert.True(run.TryFinish(T0));
    }

    [Fact]
    public void A_cancelled_result_that_could_not_be_stored_goes_back_in_the_queue()
    {
        var run = New(Grid());
        var cancelled = run.Cancel("cancelled by a client");
        Assert.Equal(0, run.Book.Pending);
        run.Requeue(cancelled);   // the store failed
        Assert.Equal(4, run.Book.Pending);
        // A cancel cut short (the coordinator moved) cancels them again with the same reason.
        Assert.All(run.Cancel(run.StopReason), r => Assert.Equal("cancelled by a client", r.Error));
    }

    [Fact]
    public void An_nsga2_generation_that_completes_the_sweep_finishes_it_and_earlier_results_are_kept_for_later_generations()
    {
        var spec = SpecParser.Parse("""
            { "name": "n", "training": { "epochs": 1 },
              "search": { "strategy": "nsga2", "trials": 8, "population": 2, "seed": 3,
                "space": { "pruneRate": { "uniform": [0.1, 0.9] }, "lambda": { "logUniform": [1e-6, 1e-2] } } } }
            """, null);
        static double Accuracy(TrialParameters p) => 0.99 - 0.3 * p.PruneRate * p.PruneRate;

        // A first run to the end, on its own.
        var first = New(spec);
        var all = new List<TrialResult>();
        while (!first.TryFinish(T0))
        {
            var batch = first.TakeStarts(3).Start;
            Assert.NotEmpty(batch);   // a generation waits only for trials in flight
            foreach (var plan in batch)
            {
                var result = Completed(plan, Accuracy(plan.Params));
                all.Add(result);
                Store(first, [result]);
            }
        }
        Assert.Equal((8, 8), (first.Book.Total, first.Book.CountOf(TrialStatus.Completed)));

        // The same spec again with those results: every proposal is one of them, kept, so nothing trains.
        var again = New(spec, all);
        while (again.TakeStarts(8).Start is { Count: > 0 } batch)
            Assert.Fail($"trial {batch[0].TrialId} was started although its result was kept");
        Assert.True(again.TryFinish(T0));
        Assert.Equal(all.Select(r => r.TrialId).Order(), again.Book.Plans.Select(p => p.TrialId).Order());
    }

    [Fact]
    public void A_trial_behind_at_a_rung_is_stopped_and_only_trials_in_flight_are_judged()
    {
        var run = New(Grid(""", "earlyStopping": { "method": "pareto-asha", "rungs": [1], "keep": 0.5 }"""));
        var started = run.TakeStarts(4).Start;
        EpochRecord At(double accuracy) => new(1, 0.5, accuracy, 0.1, 0, 1);
        // Prune rates 0.1…0.4: a higher rate with a lower accuracy is not dominated; the same rate lower is.
        Assert.Null(run.OnRung(started[3].TrialId, At(0.95)));
        Assert.Null(run.OnRung(started[2].TrialId, At(0.96)));   // dominated by nothing: less sparse but more accurate
        string? stop = run.OnRung(started[0].TrialId, At(0.5));  // less sparse and less accurate than both
        Assert.StartsWith("stopped at rung 1", stop);
        // A trial not in flight (finished, or of another sweep) is never judged.
        Store(run, [Completed(started[1])]);
        Assert.Null(run.OnRung(started[1].TrialId, At(0.1)));
        Assert.Null(run.OnRung("not-a-trial", At(0.1)));
    }

    [Fact]
    public void A_duplicate_report_only_frees_the_trials_place_and_late_or_foreign_reports_are_ignored()
    {
        var run = New(Grid());
        var started = run.TakeStarts(2).Start;
        var result = Completed(started[0]);
        Assert.Equal(ReportAction.Store, run.OnReport(result));
        Store(run, [result]);
        Assert.Equal(1, run.Book.Finished);
        // Reported again (around a coordinator move): counted once, never stored again.
        Assert.Equal(ReportAction.Forget, run.OnReport(result with { Accuracy = 0.1 }));
        Assert.Equal(0.9, Assert.Single(run.Book.Front.Points).Accuracy);
        Assert.Equal(ReportAction.Ignore, run.OnReport(result with { TrialId = "not-planned" }));
        // Stored twice (another activation appended it too): counted once.
        Store(run, [result], store: []);
        Assert.Equal((1, 1), (run.Book.Finished, run.Book.CountOf(TrialStatus.Completed)));
        run.Delete();
        Assert.Equal(ReportAction.Ignore, run.OnReport(Completed(started[1])));
        Assert.Equal(SweepPhase.Deleted, run.Phase);
    }

    [Fact]
    public void A_resumed_run_counts_the_results_stored_after_its_record_and_starts_the_rest_in_plan_order()
    {
        var spec = Grid(rates: 6);
        var run = New(spec);
        var plans = run.Book.Plans;
        var started = run.TakeStarts(3).Start;
        Store(run, [Completed(started[0])]);
        var record = run.Save();   // written: one result covered
        Assert.Equal(1, record.Stored);
        Assert.False(run.Dirty);
        // Before the coordinator stops, two more are stored (one of a trial that ran ahead of the plan).
        var late = new[] { Completed(started[2]), Completed(plans[4]) };

        var resumed = SweepRun.Resume("s", record, stored: null);
        Assert.Equal(1, resumed.Book.Finished);
        foreach (var r in late) resumed.Found(r);
        resumed.ReadTo(3);
        Assert.False(resumed.LacksStored);
        Assert.Equal((3, 3), (resumed.Book.Finished, resumed.Record.Stored));
        resumed.Activated(DateTime.UtcNow);
        var next = resumed.TakeStarts(10).Start;
        Assert.Equal([plans[1].TrialId, plans[3].TrialId, plans[5].TrialId], next.Select(p => p.TrialId));
        Assert.Equal(SweepState.Running, resumed.Status(DateTime.UtcNow, 3, "other-silo").State);
    }

    [Fact]
    public void A_record_behind_the_store_is_seen_and_a_legacy_record_is_refused_until_migrated()
    {
        var run = New(Grid());
        var record = run.Save();
        record.Stored = 2;   // another activation appended below this state's position
        var resumed = SweepRun.Resume("s", record, stored: null);
        Assert.True(resumed.LacksStored);
        var legacy = new SweepRecord { Spec = Grid() };
        Assert.True(legacy.IsLegacy);
        Assert.Throws<ArgumentException>(() => SweepRun.Resume("s", legacy, stored: null));
    }
}
