using Sweep.Core.Models;
using Sweep.Core.Pareto;
using Sweep.Core.Search;
using Sweep.Core.Sweeps;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>pareto-asha on constructed rung points: exactly the trials the rule names stop, with its reason.</summary>
public sealed class ParetoAshaTests
{
    private static SweepSpec Spec(string earlyStopping, string objectives = """["accuracy", "weightSparsity"]""") => SpecParser.Parse($$"""
        { "name": "es", "training": { "epochs": 5 }, "objectives": {{objectives}}, "earlyStopping": {{earlyStopping}},
          "search": { "strategy": "grid", "space": { "pruneRate": [0.1, 0.3, 0.5, 0.7, 0.9] } } }
        """, null);

    private static TrialParameters Rate(double rate, int epochs = 5) => new() { PruneRate = rate, Epochs = epochs };

    private static EpochRecord At(int epoch, double accuracy, double nodeSparsity = 0) => new(epoch, 0.5, accuracy, 0.1, nodeSparsity, 1);

    [Fact]
    public void At_a_rung_the_trials_outside_the_best_keep_stop_once_enough_have_reached_it()
    {
        var asha = new ParetoAsha(Spec("""{ "method": "pareto-asha", "rungs": [1, 3], "keep": 0.5 }"""));
        Assert.Null(asha.Decide("a", Rate(0.5), At(1, 0.50)));   // alone: too few to judge (fewer than 1/keep)
        Assert.Null(asha.Decide("b", Rate(0.6), At(1, 0.60)));   // dominates a: best of 2, the 1 kept
        string? c = asha.Decide("c", Rate(0.4), At(1, 0.40));    // fronts: b, a, c: third of 3, 1 kept
        Assert.Equal("stopped at rung 1: position 3 of the 3 trials at epoch 1 "
            + "(non-dominated sorting on accuracy, weightSparsity; the best 1 go on)", c);
        // d trades accuracy for sparsity against b: both on the first front, both ends (infinite crowding); b came first.
        Assert.Null(asha.Decide("d", Rate(0.1), At(1, 0.90)));   // 4 trials, 2 kept: b, d
        string? e = asha.Decide("e", Rate(0.55), At(1, 0.55));   // between a and b: second front, 5 trials, 2 kept
        Assert.StartsWith("stopped at rung 1: position 3 of the 5 trials", e);
        Assert.Equal(5, asha.CountAt(1));
        Assert.Equal(0, asha.CountAt(3));
    }

    [Fact]
    public void A_trial_out_on_the_main_front_goes_on_while_it_is_among_the_best_on_the_node_front()
    {
        const string Rule = """{ "method": "pareto-asha", "rungs": [1], "keep": 0.34 }""";   // 3 trials before judging
        var asha = new ParetoAsha(Spec(Rule));
        Assert.Null(asha.Decide("a", Rate(0.9), At(1, 0.9)));
        Assert.Null(asha.Decide("b", Rate(0.8), At(1, 0.8)));
        Assert.NotNull(asha.Decide("d", Rate(0.6), At(1, 0.6)));   // third of 3 on both fronts, 1 kept
        // c is dominated by a on accuracy vs weight sparsity, but its dead nodes put it alone first on the node front.
        Assert.Null(asha.Decide("c", Rate(0.7), At(1, 0.9, nodeSparsity: 0.5)));
        // With node sparsity as the sweep's own objective there is one front: a point second on it is out.
        var nodeOnly = new ParetoAsha(Spec(Rule, objectives: """["accuracy", "nodeSparsity"]"""));
        foreach (var (id, acc) in new[] { ("a", 0.9), ("b", 0.8), ("d", 0.6) }) nodeOnly.Decide(id, Rate(0.5), At(1, acc));
        Assert.StartsWith("stopped at rung 1: position 2 of the 4 trials at epoch 1 (non-dominated sorting on accuracy, nodeSparsity",
            nodeOnly.Decide("f", Rate(0.99), At(1, 0.85)));
    }

    [Fact]
    public void A_completed_trial_that_was_better_at_the_rung_stops_a_trial_even_before_enough_have_reached_it()
    {
        var asha = new ParetoAsha(Spec("""{ "method": "pareto-asha", "rungs": [2], "keep": 0.25 }"""));
        asha.Record(new TrialResult
        {
            TrialId = "done", Status = TrialStatus.Completed, Params = Rate(0.7),
            Epochs = [At(1, 0.7), At(2, 0.8), At(3, 0.85), At(4, 0.9), At(5, 0.9)],
        });
        // Same rate, lower accuracy at epoch 2: dominated by what the completed trial had there.
        Assert.Equal("stopped at rung 2: completed trial done was better at epoch 2 "
            + "(accuracy 0.8 ≥ 0.75, weightSparsity 0.7 ≥ 0.7)", asha.Decide("x", Rate(0.7), At(2, 0.75)));
        // Sparser (its planned rate is higher): not dominated, and 3 trials are too few for keep 1/4.
        Assert.Null(asha.Decide("y", Rate(0.9), At(2, 0.5)));
        // A stopped trial's point is recorded (it counts at the rung) but never stops another by this rule: z, which s
        // dominates, is judged by its position among the 5 trials now at the rung (4 = 1/keep are enough).
        asha.Record(new TrialResult
        {
            TrialId = "s", Status = TrialStatus.Stopped, Params = Rate(0.9), Epochs = [At(1, 0.9), At(2, 0.95)],
        });
        Assert.Equal(4, asha.CountAt(2));
        Assert.StartsWith("stopped at rung 2: position 4 of the 5 trials", asha.Decide("z", Rate(0.8), At(2, 0.6)));
    }

    [Fact]
    public void Only_rungs_before_a_trials_last_epoch_are_judged()
    {
        var asha = new ParetoAsha(Spec("""{ "method": "pareto-asha", "rungs": [1, 3], "keep": 0.5 }"""));
        asha.Record(new TrialResult
        {
            TrialId = "done", Status = TrialStatus.Completed, Params = Rate(0.9), Epochs = [At(1, 0.9), At(3, 0.95)],
        });
        Assert.Null(asha.Decide("last", Rate(0.1, epochs: 3), At(3, 0.1)));   // epoch 3 is its last: nothing to save
        Assert.Null(asha.Decide("between", Rate(0.1), At(2, 0.1)));           // epoch 2 is no rung
        Assert.NotNull(asha.Decide("rung", Rate(0.1), At(3, 0.1)));
    }

    [Fact]
    public void Node_sparsity_is_read_at_the_rung_and_weight_sparsity_is_the_planned_rate()
    {
        var p = Rate(0.9) with { PruneMethod = "magnitude" };
        Assert.Equal(0.9, Objectives.AtRung(Objective.WeightSparsity, p, At(1, 0.5)));
        Assert.Equal(0, Objectives.AtRung(Objective.WeightSparsity, p with { PruneMethod = "none" }, At(1, 0.5)));
        Assert.Equal(0.25, Objectives.AtRung(Objective.NodeSparsity, p, At(1, 0.5, nodeSparsity: 0.25)));
        Assert.Equal(0.5, Objectives.AtRung(Objective.Accuracy, p, At(1, 0.5)));
    }

    [Theory]
    [InlineData("""{ "method": "median", "rungs": [1], "keep": 0.5 }""", "earlyStopping.method: unknown method 'median'")]
    [InlineData("""{ "method": "pareto-asha", "keep": 0.5 }""", "earlyStopping.rungs: required")]
    [InlineData("""{ "method": "pareto-asha", "rungs": [3, 3], "keep": 0.5 }""", "earlyStopping.rungs[1]: rungs must increase")]
    [InlineData("""{ "method": "pareto-asha", "rungs": [0], "keep": 0.5 }""", "earlyStopping.rungs[0]: must be")]
    [InlineData("""{ "method": "pareto-asha", "rungs": [1], "keep": 1 }""", "earlyStopping.keep: must be")]
    [InlineData("""{ "method": "pareto-asha", "rungs": [1] }""", "earlyStopping.keep: required")]
    [InlineData("""{ "method": "pareto-asha", "rungs": [1], "keep": 0.5, "eta": 3 }""", "earlyStopping.eta: unknown key")]
    public void Bad_early_stopping_settings_are_refused_naming_the_field(string earlyStopping, string message)
    {
        var e = Assert.Throws<SpecException>(() => Spec(earlyStopping));
        Assert.StartsWith(message, e.Message);
    }
}
