using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

/// <summary>examples/paper: every spec parses and expands to the trial counts its README promises.</summary>
public sealed class PaperExamplesTests
{
    // examples/paper/README.md quotes these counts (and the runtimes that follow from them).
    public static readonly TheoryData<string, int> TrialCounts = new()
    {
        { "paper/lenet5-baselines.json", 6 },
        { "paper/lenet5-random.json", 30 },
        { "paper/mlp-baselines.json", 18 },
        { "paper/mlp-dense.json", 3 },
        { "paper/mlp-l1.json", 90 },
        { "paper/mlp-l2.json", 90 },
        { "paper/vgg-cifar10.json", 14 },
        { "paper/vgg-smoke.json", 14 },
    };

    [Fact]
    public void Every_paper_spec_has_its_trial_count_listed_here()
    {
        Assert.Equal(Examples.Paper(), TrialCounts.Select(row => row.Data.Item1));
    }

    [Theory]
    [MemberData(nameof(TrialCounts))]
    public void A_paper_spec_parses_and_expands_to_its_trials(string file, int trials)
    {
        var spec = Examples.Load(file);
        Assert.Equal("paper-" + Path.GetFileNameWithoutExtension(file), spec.Name);
        Assert.Null(spec.TrainLimit);
        var plans = SearchSpace.Expand(spec);
        Assert.Equal(trials, plans.Count);
        Assert.Equal(trials, plans.Select(p => p.TrialId).Distinct().Count());
        if (file.StartsWith("paper/vgg", StringComparison.Ordinal)) return;   // the next test
        Assert.Equal(DatasetRef.Mnist10k, spec.Dataset);
        Assert.Equal([0L, 1, 2], spec.Seeds);
        Assert.All(plans, p => Assert.InRange(p.Params.Epochs, 15, 30));
    }

    [Fact]
    public void The_mlp_study_crosses_both_regularizers_with_every_rate_and_method_and_has_its_baselines()
    {
        var trials = new[] { "mlp-l1", "mlp-l2", "mlp-baselines", "mlp-dense" }
            .SelectMany(n => SearchSpace.Expand(SpecParser.Load(Examples.PathOf($"paper/{n}.json"))))
            .Select(p => p.Params).ToArray();
        Assert.All(trials, p => Assert.Equal(("mlp", 20), (p.Model, p.Epochs)));
        foreach (var regularizer in new[] { "l1", "l2", "none" })
            foreach (var rate in new[] { 0.9, 0.95, 0.98 })
                foreach (var method in new[] { "stochastic", "magnitude" })
                {
                    var cell = trials.Where(p => p.Regularizer == regularizer && p.PruneRate == rate && p.PruneMethod == method).ToArray();
                    Assert.Equal(regularizer == "none" ? 3 : 15, cell.Length);   // 5 λ × 3 seeds, or 3 seeds
                }
        Assert.Equal(3, trials.Count(p => p is { Regularizer: "none", PruneMethod: "none", PruneRate: 0 }));
        // The λ ranges overlap on three values, so L1 and L2 also meet at equal λ.
        var l1 = trials.Where(p => p.Regularizer == "l1").Select(p => p.Lambda).Distinct().ToHashSet();
        var l2 = trials.Where(p => p.Regularizer == "l2").Select(p => p.Lambda).Distinct().ToHashSet();
        Assert.Equal([1e-4, 3e-4, 1e-3], l1.Intersect(l2).Order());
    }

    [Fact]
    public void The_lenet5_random_search_draws_both_regularizers_across_the_lambda_range()
    {
        var configurations = SearchSpace.Expand(SpecParser.Load(Examples.PathOf("paper/lenet5-random.json")))
            .Select(p => p.Params with { Seed = 0 }).Distinct().ToArray();
        Assert.Equal(10, configurations.Length);
        foreach (var regularizer in new[] { "l1", "l2" })
        {
            var lambdas = configurations.Where(p => p.Regularizer == regularizer).Select(p => p.Lambda).ToArray();
            Assert.Equal(5, lambdas.Length);   // the search seed was chosen for an even split
            // Spread over the range: a draw below 1e-4 and one above 3e-4.
            Assert.Contains(lambdas, l => l < 1e-4);
            Assert.Contains(lambdas, l => l > 3e-4);
        }
    }

    [Fact]
    public void The_vgg_study_names_cifar10_and_its_smoke_stand_in_and_is_otherwise_the_same()
    {
        var cifar = Examples.Tree("paper/vgg-cifar10.json");
        var smoke = Examples.Tree("paper/vgg-smoke.json");
        Assert.Equal("../../data/cifar-10-batches-bin", (string?)cifar["dataset"]!["cifar10"]);
        Assert.True((bool?)cifar["dataset"]!["augment"]);
        Assert.Equal("../../data/mnist-as-cifar10", (string?)smoke["dataset"]!["cifar10"]);   // mnist-as-cifar10.py writes it
        Assert.Equal(
            SearchSpace.Expand(Examples.Load("paper/vgg-cifar10.json")).Select(p => p.TrialId),
            SearchSpace.Expand(Examples.Load("paper/vgg-smoke.json")).Select(p => p.TrialId));
        var trials = SearchSpace.Expand(Examples.Load("paper/vgg-smoke.json")).Select(p => p.Params).ToArray();
        Assert.All(trials, p => Assert.Equal(("vgg", "stochastic"), (ModelSpec.Parse(p.Model).Family, p.PruneMethod)));
        Assert.Equal(["l1", "l2", "none"], trials.Select(p => p.Regularizer).Distinct().Order());
        Assert.Equal(2, trials.Count(p => p.Regularizer == "none"));   // λ means nothing without a regularizer: once per rate
        Assert.Equal([0.9, 0.95], trials.Select(p => p.PruneRate).Distinct().Order());
    }
}
