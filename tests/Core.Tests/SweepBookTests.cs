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
        var results = new List<TrialResult>();
        var book = new SweepBook(Spec, Plans, results);
        Assert.Equal((6, 6, 0, 0), (book.Total, book.Pending, book.Running, book.Finished));

        var first = book.Start(4);
        Assert.Equal(Plans.Take(4).Select(p => p.TrialId), first.Select(p => p.TrialId));
        Assert.Equal((2, 4), (book.Pending, book.Running));

        Assert.True(book.Collect(Completed(first[0], 0.9, 0.5, 0.1)));
        Assert.False(book.Collect(Completed(first[0], 0.1, 0.1, 0.1)));   // reported again: the first result stands
        Assert.Single(results);
        Assert.Equal(0.9, results[0].Accuracy);
        Assert.Equal((3, 1), (book.Running, book.Finished));
        Assert.Equal(1, book.CountOf(TrialStatus.Completed));
    }

    [Fact]
    public void A_trial_reported_while_it_waits_is_never_started_and_a_second_report_frees_its_place()
    {
        var book = new SweepBook(Spec, Plans, []);
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
        var book = new SweepBook(Spec, Plans, []);
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
        var results = new List<TrialResult>();
        var book = new SweepBook(Spec, Plans, results);
        book.Start(2);
        book.Collect(Completed(Plans[4], 0.9, 0.5, 0.1));   // finished while waiting

        Assert.Equal(3, book.CancelPending("s"));

        Assert.Equal(4, book.Finished);
        Assert.Equal(3, book.CountOf(TrialStatus.Cancelled));
        Assert.Equal(2, book.Running);
        Assert.False(book.AllFinished);
        Assert.Equal(results.Count, results.Select(r => r.TrialId).Distinct().Count());
    }

    [Fact]
    public void A_book_rebuilt_from_its_results_resumes_with_the_same_counts_fronts_and_waiting_trials()
    {
        var results = new List<TrialResult>();
        var book = new SweepBook(Spec, Plans, results);
        book.Start(3);
        book.Collect(Completed(Plans[0], 0.95, 0.5, 0.0));
        book.Collect(Completed(Plans[1], 0.90, 0.9, 0.3));

        var again = new SweepBook(Spec, Plans, [.. results]);

        Assert.Equal((2, 4, 0), (again.Finished, again.Pending, again.Running));   // the in-flight trial waits again
        Assert.Equal(book.Front.Points, again.Front.Points);
        Assert.Equal(Plans[2].TrialId, again.Start(1)[0].TrialId);
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
        var book = new SweepBook(Spec, Plans, []);
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
