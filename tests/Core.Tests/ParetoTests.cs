using Sweep.Core.Models;
using Sweep.Core.Pareto;
using Xunit;

namespace Sweep.Core.Tests;

public sealed class ParetoTests
{
    private const string Acc = "accuracy", Ws = "weightSparsity", Ns = "nodeSparsity";

    private static FrontPoint P(string id, double accuracy, double weightSparsity, double nodeSparsity = 0) =>
        new(id, new TrialParameters(), accuracy, weightSparsity, nodeSparsity);

    private static string[] Ids(IEnumerable<FrontPoint> points) => points.Select(p => p.TrialId).ToArray();

    private static ParetoFront Incremental(IEnumerable<FrontPoint> points, string first = Acc, string second = Ws)
    {
        var front = new ParetoFront(first, second);
        foreach (var p in points) front.Add(p);
        return front;
    }

    [Fact]
    public void Loading_a_front_equals_adding_its_points_one_by_one_ties_included()
    {
        var random = new Random(11);
        // Coarse values: many ties and many identical points.
        var points = Enumerable.Range(0, 3000)
            .Select(i => P($"t{i:D5}", random.Next(20) / 20.0, random.Next(20) / 20.0, random.Next(5) / 5.0)).ToArray();
        foreach (var (first, second) in new[] { (Acc, Ws), (Acc, Ns) })
        {
            var loaded = new ParetoFront(first, second);
            loaded.Load(points);
            var added = Incremental(points, first, second);
            Assert.Equal(Ids(added.Points), Ids(loaded.Points));
            loaded.Add(points[0] with { Accuracy = 2 });   // a trial loaded before counts as added: its first result stands
            Assert.Equal(Ids(added.Points), Ids(loaded.Points));
            Assert.DoesNotContain(loaded.Points, p => p.Accuracy == 2);
            Assert.Throws<InvalidOperationException>(() => loaded.Load(points));
        }
    }

    [Fact]
    public void Dominated_points_are_removed_from_both_fronts()
    {
        FrontPoint[] points =
        [
            P("a", 0.95, 0.5),
            P("b", 0.90, 0.9),
            P("c", 0.90, 0.5),   // dominated by b (equal accuracy, less sparse)
            P("d", 0.80, 0.7),   // dominated by b
            P("e", 0.70, 0.95),
        ];
        Assert.Equal(["a", "b", "e"], Ids(ParetoFront.NonDominated(points, Acc, Ws)));
        Assert.Equal(["a", "b", "e"], Ids(Incremental(points).Points));
    }

    [Fact]
    public void Adding_a_dominating_point_evicts_every_member_it_dominates()
    {
        var front = Incremental([P("a", 0.9, 0.1), P("b", 0.8, 0.5), P("c", 0.5, 0.8)]);
        Assert.True(front.Add(P("d", 0.9, 0.6)));
        Assert.Equal(["d", "c"], Ids(front.Points));
    }

    [Fact]
    public void Add_reports_whether_the_point_is_on_the_front()
    {
        var front = new ParetoFront(Acc, Ws);
        Assert.True(front.Add(P("a", 0.9, 0.5)));
        Assert.False(front.Add(P("b", 0.8, 0.4)));
        Assert.False(front.Add(P("c", 0.9, 0.4)));   // equal in one objective, worse in the other: dominated
        Assert.True(front.Add(P("d", 0.8, 0.6)));
        Assert.Equal(["a", "d"], Ids(front.Points));
    }

    [Fact]
    public void Identical_points_all_stay_on_the_front()
    {
        FrontPoint[] points = [P("b", 0.9, 0.5), P("a", 0.9, 0.5), P("c", 0.9, 0.5)];
        Assert.Equal(["a", "b", "c"], Ids(ParetoFront.NonDominated(points, Acc, Ws)));
        var front = new ParetoFront(Acc, Ws);
        Assert.All(points, p => Assert.True(front.Add(p)));
        Assert.Equal(["a", "b", "c"], Ids(front.Points));
    }

    [Fact]
    public void Ties_in_one_objective_keep_only_the_better_point()
    {
        FrontPoint[] points = [P("a", 0.9, 0.5), P("b", 0.9, 0.7), P("c", 0.8, 0.7)];
        Assert.Equal(["b"], Ids(ParetoFront.NonDominated(points, Acc, Ws)));
        Assert.Equal(["b"], Ids(Incremental(points).Points));
    }

    [Fact]
    public void Trade_offs_stay_and_a_point_tied_in_one_objective_but_worse_in_the_other_goes()
    {
        FrontPoint[] points = [P("a", 0.9, 0.1), P("b", 0.8, 0.2), P("c", 0.7, 0.3), P("d", 0.6, 0.3)];
        Assert.Equal(["a", "b", "c"], Ids(ParetoFront.NonDominated(points, Acc, Ws)));
        Assert.Equal(["a", "b", "c"], Ids(Incremental(points).Points));
    }

    [Fact]
    public void A_single_point_is_its_own_front()
    {
        var front = new ParetoFront(Acc, Ws);
        Assert.True(front.Add(P("only", 0.1, 0.1)));
        Assert.Equal(["only"], Ids(front.Points));
        Assert.Equal(["only"], Ids(ParetoFront.NonDominated([P("only", 0.1, 0.1)], Acc, Ws)));
    }

    [Fact]
    public void No_points_make_an_empty_front()
    {
        Assert.Empty(new ParetoFront(Acc, Ws).Points);
        Assert.Empty(ParetoFront.NonDominated([], Acc, Ws));
        var f = new ParetoFront(Acc, Ws).ToFront([0, 0]);
        Assert.Empty(f.Points);
        Assert.Equal(0, f.Hypervolume);
    }

    [Fact]
    public void Points_are_sorted_by_first_objective_then_second_then_trial_id()
    {
        FrontPoint[] points =
        [
            P("z", 0.5, 0.9), P("m", 0.95, 0.2), P("b", 0.7, 0.6), P("a", 0.7, 0.6), P("q", 0.95, 0.2), P("k", 0.6, 0.8),
        ];
        string[] expected = ["m", "q", "a", "b", "k", "z"];
        Assert.Equal(expected, Ids(Incremental(points).Points));
        Assert.Equal(expected, Ids(Incremental(points.Reverse()).Points));
        Assert.Equal(expected, Ids(ParetoFront.NonDominated(points, Acc, Ws)));
    }

    [Fact]
    public void The_order_follows_the_first_objective_named()
    {
        FrontPoint[] points = [P("a", 0.9, 0.1), P("b", 0.5, 0.8)];
        Assert.Equal(["b", "a"], Ids(Incremental(points, Ws, Acc).Points));
        Assert.Equal(["b", "a"], Ids(ParetoFront.NonDominated(points, Ws, Acc)));
    }

    [Fact]
    public void The_node_front_reads_node_sparsity()
    {
        FrontPoint[] points = [P("a", 0.9, 0.9, 0.1), P("b", 0.8, 0.1, 0.5), P("c", 0.7, 0.95, 0.4)];
        Assert.Equal(["a", "b"], Ids(Incremental(points, Acc, Ns).Points));
        Assert.Equal(["a", "c"], Ids(Incremental(points, Acc, Ws).Points));
    }

    [Fact]
    public void NaN_objective_values_are_never_on_a_front()
    {
        FrontPoint[] points =
            [P("nan-acc", double.NaN, 0.9), P("nan-ws", 0.99, double.NaN), P("ok", 0.5, 0.5), P("nan-ns", 0.4, 0.4, double.NaN)];
        var front = new ParetoFront(Acc, Ws);
        Assert.False(front.Add(points[0]));
        Assert.False(front.Add(points[1]));
        Assert.True(front.Add(points[2]));
        Assert.Equal(["ok"], Ids(front.Points));
        Assert.Equal(["ok"], Ids(ParetoFront.NonDominated(points, Acc, Ws)));
        // A NaN in an objective the front does not use does not matter: nan-ws leads the node front.
        Assert.Equal(["nan-ws"], Ids(ParetoFront.NonDominated(points, Acc, Ns)));
        Assert.Equal(["nan-ws"], Ids(Incremental(points, Acc, Ns).Points));
        Assert.Empty(ParetoFront.NonDominated([points[3]], Acc, Ns));
        Assert.False(new ParetoFront(Acc, Ns).Add(points[3]));
    }

    [Fact]
    public void A_trial_id_added_again_is_ignored_and_the_first_result_stays()
    {
        var front = new ParetoFront(Acc, Ws);
        Assert.True(front.Add(P("a", 0.5, 0.5)));
        Assert.True(front.Add(P("a", 0.9, 0.9)));   // ignored; "a" is still on the front
        Assert.Equal(0.5, Assert.Single(front.Points).Accuracy);

        Assert.True(front.Add(P("b", 0.6, 0.6)));
        Assert.False(front.Add(P("a", 1.0, 1.0)));  // ignored; "a" was evicted by b
        Assert.Equal(["b"], Ids(front.Points));

        FrontPoint[] sequence = [P("a", 0.5, 0.5), P("a", 0.9, 0.9), P("b", 0.6, 0.6), P("a", 1.0, 1.0)];
        Assert.Equal(["b"], Ids(ParetoFront.NonDominated(sequence, Acc, Ws)));
    }

    [Theory]
    [InlineData(1, 300, 0)]      // continuous values: ties are rare
    [InlineData(2, 500, 10)]     // values on a 10-step grid: many ties and identical points
    [InlineData(3, 800, 4)]      // a coarse grid: fronts of a few points, many duplicates
    public void Incremental_front_equals_batch_front_on_random_points(int seed, int count, int grid)
    {
        var rng = new Random(seed);
        double Draw() => grid == 0 ? rng.NextDouble() : rng.Next(grid + 1) / (double)grid;
        var points = Enumerable.Range(0, count)
            .Select(i => P($"t{rng.Next(count * 2):D5}", Draw(), Draw(), Draw()))   // some ids repeat: first result wins
            .Select(p => rng.Next(50) == 0 ? p with { Accuracy = double.NaN } : p)
            .ToArray();

        foreach (var (first, second) in new[] { (Acc, Ws), (Acc, Ns), (Ws, Acc) })
        {
            var front = new ParetoFront(first, second);
            foreach (var p in points) front.Add(p);
            var batch = ParetoFront.NonDominated(points, first, second);
            Assert.Equal(Ids(batch), Ids(front.Points));
            Assert.Equal(batch, front.Points);

            // Brute force over the first result of each id: nothing on the front is dominated, nothing off it is undominated.
            var distinct = points.DistinctBy(p => p.TrialId).Where(p => !double.IsNaN(p.Accuracy)).ToArray();
            bool Dominated(FrontPoint p) => distinct.Any(q =>
                Objectives.Of(q, first) >= Objectives.Of(p, first) && Objectives.Of(q, second) >= Objectives.Of(p, second)
                && (Objectives.Of(q, first) > Objectives.Of(p, first) || Objectives.Of(q, second) > Objectives.Of(p, second)));
            Assert.Equal(distinct.Where(p => !Dominated(p)).Select(p => p.TrialId).Order(StringComparer.Ordinal),
                Ids(batch).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void ToFront_carries_objectives_reference_point_points_and_hypervolume()
    {
        var front = Incremental([P("a", 0.9, 0.5), P("b", 0.6, 0.8), P("c", 0.5, 0.5)]);
        var f = front.ToFront([0.1, 0.2]);
        Assert.Equal([Acc, Ws], f.Objectives);
        Assert.Equal([0.1, 0.2], f.ReferencePoint);
        Assert.Equal(["a", "b"], Ids(f.Points));
        // (0.9-0.1)·(0.5-0.2) + (0.6-0.1)·(0.8-0.5)
        Assert.Equal(0.8 * 0.3 + 0.5 * 0.3, f.Hypervolume, 12);
    }

    [Fact]
    public void ToFront_rejects_a_reference_point_without_two_values()
    {
        var front = new ParetoFront(Acc, Ws);
        Assert.Throws<ArgumentException>(() => front.ToFront([0]));
        Assert.Throws<ArgumentException>(() => front.ToFront([0, 0, 0]));
    }

    [Fact]
    public void Objective_reads_each_known_measure_and_rejects_unknown_names()
    {
        var p = P("a", 0.9, 0.8, 0.7);
        Assert.Equal(0.9, Objectives.Of(p, "accuracy"));
        Assert.Equal(0.8, Objectives.Of(p, "weightSparsity"));
        Assert.Equal(0.7, Objectives.Of(p, "nodeSparsity"));
        Assert.Equal(["accuracy", "weightSparsity", "nodeSparsity"], Objectives.Known);
        Assert.Throws<ArgumentException>(() => Objectives.Of(p, "loss"));
        Assert.Throws<ArgumentException>(() => Objectives.Of(p, "Accuracy"));
        Assert.Throws<ArgumentException>(() => new ParetoFront("accuracy", "seconds"));
        Assert.Throws<ArgumentException>(() => ParetoFront.NonDominated([], "loss", "accuracy"));
    }
}
