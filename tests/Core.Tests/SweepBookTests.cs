using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Core.Sweeps;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>The coordinator's bookkeeping, tested without a cluster.</summary>
public sealed class SweepBookTests
{
    private static readonly SweepSpec Spec = SpecParser.Parse("""
        { "name": "book", "search": { "strategy": "grid", "space": { "lambda": [1e-5, 1e-4, 1e-3], "pruneRate": [0.5, 0.9] } } }
        """, null);

    private static readonly IReadOnlyList<TrialPlan> Plans = SearchSpace.Expand(Spec);

    private static TrialResult Completed(TrialPlan plan, double accuracy, double weights, double nodes) => new()
    {
        TrialId = plan.TrialId, SweepId = "s", Status = TrialStatus.Completed, Params = plan.Params,
        Accuracy = accuracy, WeightSparsity = weights, NodeSparsity = nodes,
    };

    [Fact]
    public void Trials_start_in_plan_order_as_room_allows_and_finish_once()
    {
        var book = new SweepBook(Spec, Plans);
        Assert.Equal((6, 6, 0, 0), (book.Total, book.Pending, book.Running, book.Finished));

        var first = book.Start(4);
        Assert.Equal(Plans.Take(4).Select(p => p.TrialId), first.Select(p => p.TrialId));
        Assert.Equal((2, 4), (book.Pending, book.Running));

        Assert.True(book.Collect(Completed(first[0], 0.9, 0.5, 0.1)));
        Assert.False(book.Collect(Completed(first[0], 0.1, 0.1, 0.1)));   // reported again: the first result stands
        Assert.Equal(0.9, Assert.Single(book.Front.Points).Accuracy);
        Assert.True(book.IsDone(first[0].TrialId));
        Assert.Equal((3, 1), (book.Running, book.Finished));
        Assert.Equal(1, book.CountOf(TrialStatus.Completed));
    }

    [Fact]
    public void A_trial_reported_while_it_waits_is_never_started_and_a_second_report_frees_its_place()
    {
        var book = new SweepBook(Spec, Plans);
        // Trials 2 and 3 ran before a coordinator move: their reports arrive while they still wait.
        Assert.True(book.Collect(Completed(Plans[2], 0.9, 0.5, 0.1)));
        Assert.True(book.Collect(Completed(Plans[3], 0.9, 0.9, 0.2)));

        var started = book.Start(10);

        Assert.Equal([Plans[0].TrialId, Plans[1].TrialId, Plans[4].TrialId, Plans[5].TrialId], started.Select(p => p.TrialId));
        Assert.Equal(0, book.Pending);
        Assert.True(book.Collect(Completed(Plans[0], 0.8, 0.5, 0.1)));
        Assert.False(book.IsInFlight(Plans[0].TrialId));
        Assert.Equal((3, 3), (book.Running, book.Finished));
    }

    [Fact]
    public void Fronts_hold_the_non_dominated_completed_trials_and_failed_ones_count_in_neither()
    {
        var book = new SweepBook(Spec, Plans);
        book.Start(6);
        book.Collect(Completed(Plans[0], 0.95, 0.5, 0.0));
        book.Collect(Completed(Plans[1], 0.90, 0.9, 0.3));
        book.Collect(Completed(Plans[2], 0.80, 0.5, 0.4));   // dominated on the main front, not on the node front
        book.Collect(new TrialResult { TrialId = Plans[3].TrialId, Status = TrialStatus.Failed, Params = Plans[3].Params, Error = "x" });

        Assert.Equal([Plans[0].TrialId, Plans[1].TrialId], book.Front.Points.Select(p => p.TrialId));
        Assert.Equal(0.95 * 0.5 + 0.90 * 0.4, book.Front.Hypervolume, 12);
        Assert.Equal([Plans[0].TrialId, Plans[1].TrialId, Plans[2].TrialId], book.NodeFront.Points.Select(p => p.TrialId));
        Assert.Equal(1, book.CountOf(TrialStatus.Failed));
        var report = book.FrontReport("s");
        Assert.Equal(book.Front.Hypervolume, report.Hypervolume);
        Assert.Equal(book.NodeFront.Points, report.NodeFront.Points);
    }

    [Fact]
    public void Cancelling_records_every_waiting_trial_once_and_running_ones_stay_in_flight()
    {
        var book = new SweepBook(Spec, Plans);
        book.Start(2);
        book.Collect(Completed(Plans[4], 0.9, 0.5, 0.1));   // finished while waiting

        var results = book.CancelPending("s");
        Assert.Equal([Plans[2].TrialId, Plans[3].TrialId, Plans[5].TrialId], results.Select(r => r.TrialId));
        Assert.All(results, r => Assert.Equal(TrialStatus.Cancelled, r.Status));
        Assert.Equal((0, 1), (book.Pending, book.Finished));   // done only once stored and collected
        foreach (var r in results) Assert.True(book.Collect(r));

        Assert.Equal(4, book.Finished);
        Assert.Equal(3, book.CountOf(TrialStatus.Cancelled));
        Assert.Equal(2, book.Running);
        Assert.False(book.AllFinished);
        Assert.Equal(results.Count, results.Select(r => r.TrialId).Distinct().Count());
    }

    [Fact]
    public void A_book_resumed_from_its_saved_state_has_the_same_counts_fronts_and_waiting_trials()
    {
        var book = new SweepBook(Spec, Plans);
        book.Start(4);
        book.Collect(Completed(Plans[0], 0.95, 0.5, 0.0));
        book.Collect(Completed(Plans[3], 0.90, 0.9, 0.3));
        book.Collect(new TrialResult { TrialId = Plans[1].TrialId, Status = TrialStatus.Failed, Params = Plans[1].Params });

        var again = new SweepBook(Spec, Plans, book.Save());

        Assert.Equal((3, 3, 0), (again.Finished, again.Pending, again.Running));   // the in-flight trial waits again
        Assert.Equal(book.Front.Points, again.Front.Points);
        Assert.Equal(book.NodeFront.Points, again.NodeFront.Points);
        Assert.Equal((2, 1), (again.CountOf(TrialStatus.Completed), again.CountOf(TrialStatus.Failed)));
        Assert.True(again.IsDone(Plans[3].TrialId));
        Assert.False(again.Collect(Completed(Plans[3], 0.1, 0.1, 0.1)));   // done before the save: not counted again
        Assert.Equal([Plans[2].TrialId, Plans[4].TrialId], again.Start(2).Select(p => p.TrialId));
    }

    [Fact]
    public void A_front_of_many_tied_trials_is_saved_in_a_few_bytes_and_restored_whole()
    {
        var spec = SpecParser.Parse("""
            { "name": "ties", "search": { "strategy": "random", "trials": 5000,
              "space": { "lambda": { "logUniform": [1e-6, 1e-2] }, "pruneRate": { "uniform": [0.1, 0.99] } } } }
            """, null);
        var plans = SearchSpace.Expand(spec);
        var book = new SweepBook(spec, plans);
        book.Start(plans.Count);
        // Every trial the same outcome (a zero-epoch sweep on a tiny test set): all of them are on both fronts.
        foreach (var p in plans) book.Collect(Completed(p, 0.5, 0, 0));
        book.Collect(Completed(plans[0], 0.9, 0.9, 0.9) with { TrialId = "unplanned" });
        var saved = book.Save();
        Assert.Equal(5000, book.Front.Points.Count);
        Assert.Single(saved.FrontMembers);
        Assert.True(saved.FrontMembers[0].Length <= 4);
        var again = new SweepBook(spec, plans, saved);
        Assert.Equal(book.Front.Points, again.Front.Points);
        Assert.Equal(book.NodeFront.Points, again.NodeFront.Points);
        Assert.Equal(book.Front.Hypervolume, again.Front.Hypervolume);
    }

    [Fact]
    public void The_saved_state_stays_small_however_large_the_sweep()
    {
        var spec = SpecParser.Parse("""
            { "name": "big", "search": { "strategy": "random", "trials": 100000,
              "space": { "lambda": { "logUniform": [1e-6, 1e-2] }, "pruneRate": { "uniform": [0.1, 0.99] } } } }
            """, null);
        var plans = SearchSpace.Expand(spec);
        var book = new SweepBook(spec, plans);
        // Finish 99,000 trials roughly in plan order, with a window of 2,000 in flight finishing out of order.
        var random = new Random(1);
        int finished = 0;
        while (finished < 99_000)
        {
            var started = book.Start(2000 - book.Running);
            foreach (var p in started.OrderBy(_ => random.Next()).Take(started.Count / 2 + 1))
            {
                book.Collect(new TrialResult { TrialId = p.TrialId, Status = TrialStatus.Failed, Params = p.Params });
                finished++;
            }
            foreach (var t in book.InFlight.OrderBy(t => book.IndexOf(t.TrialId)).Take(300).ToArray())
            {
                book.Collect(new TrialResult { TrialId = t.TrialId, Status = TrialStatus.Failed, Params = book.Plan(t.TrialId).Params });
                finished++;
            }
        }
        var saved = book.Save();
        Assert.True(saved.DonePrefix > 90_000, $"prefix {saved.DonePrefix}");
        Assert.True(saved.DoneWindow.Length < 2_000, $"window {saved.DoneWindow.Length} bytes");
        var again = new SweepBook(spec, plans, saved);
        Assert.Equal(book.Finished, again.Finished);
        Assert.Equal(book.Total - book.Finished, again.Pending);
        // A straggler holds the prefix back: the window then spans the rest, one bit a trial (12.5 KB at 100,000).
        var straggler = book.InFlight.OrderBy(t => book.IndexOf(t.TrialId)).First();
        while (book.Pending > 0 || book.Running > 1)
        {
            book.Start(2000);
            foreach (var t in book.InFlight.Where(t => t.TrialId != straggler.TrialId).ToArray())
                book.Collect(new TrialResult { TrialId = t.TrialId, Status = TrialStatus.Failed, Params = book.Plan(t.TrialId).Params });
        }
        Assert.InRange(book.Save().DoneWindow.Length, 1, 100_000 / 8);
    }

    [Fact]
    public void Reusable_results_are_the_completed_planned_ones_with_the_same_parameters_each_once()
    {
        var good = Completed(Plans[0], 0.9, 0.5, 0.1);
        var otherParams = Completed(Plans[1], 0.9, 0.5, 0.1) with { Params = Plans[1].Params with { Epochs = 99 } };
        var failed = good with { TrialId = Plans[2].TrialId, Params = Plans[2].Params, Status = TrialStatus.Failed };
        var unplanned = good with { TrialId = "t000000000000" };

        var kept = SweepBook.Reusable(Plans, [good, otherParams, failed, unplanned, good with { Accuracy = 0.1 }], "new");

        Assert.Equal([good with { SweepId = "new" }], kept);
    }

    [Fact]
    public void Progress_and_unplanned_reports_change_only_what_they_should()
    {
        var book = new SweepBook(Spec, Plans);
        book.Start(1);
        long version = book.Version;
        book.Progress(Plans[0].TrialId, 3, "silo-a");
        book.Progress(Plans[5].TrialId, 3, "silo-a");   // not in flight: ignored

        Assert.Equal(new TrialProgress(Plans[0].TrialId, 3, Plans[0].Params.Epochs, "silo-a"), Assert.Single(book.InFlight));
        Assert.Equal(version + 1, book.Version);
        Assert.False(book.Collect(Completed(Plans[0], 0.9, 0.5, 0.1) with { TrialId = "t000000000000" }));
        Assert.Equal(0, book.Finished);
    }
}
