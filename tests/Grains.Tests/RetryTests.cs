using Sweep.Training.Data;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class RetryTests(ClusterFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-retry-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs a one-trial sweep to its end and returns that trial.</summary>
    private async Task<TrialResult> OnlyTrialAsync(SweepSpec spec)
    {
        var coordinator = fixture.Client.GetGrain<ISweepCoordinatorGrain>($"{spec.Name}-{Guid.NewGuid():N}");
        await coordinator.SubmitAsync(spec, []);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while ((await coordinator.GetStatusAsync())!.IsFinished is false) await Task.Delay(100, cts.Token);
        return (await coordinator.GetResultsAsync(0, 10)).Single();
    }

    [Fact]
    public async Task A_trial_that_keeps_failing_stops_after_max_attempts_with_each_reason()
    {
        // A dataset file that vanishes after the spec was checked: a node-local fault, so it is retried.
        var (images, labels) = Sweep.Core.Models.DatasetRef.Mnist10k.Resolve();
        string myImages = Path.Combine(_dir, "images.gz"), myLabels = Path.Combine(_dir, "labels.gz");
        File.Copy(images, myImages);
        File.Copy(labels, myLabels);
        var spec = SpecParser.Parse($$"""
            { "name": "retry", "dataset": { "images": "{{myImages}}", "labels": "{{myLabels}}" }, "maxAttempts": 3,
              "training": { "epochs": 1, "trainLimit": 500 }, "search": { "strategy": "grid", "space": { "pruneRate": [0.5] } } }
            """, null);
        File.Delete(myImages);

        var result = await OnlyTrialAsync(spec);
        Assert.Equal(TrialStatus.Failed, result.Status);
        Assert.Equal(3, result.Attempts);
        Assert.Contains("attempt 1: ", result.Error);
        Assert.Contains("attempt 3: ", result.Error);
        Assert.Equal(3, result.Error!.Split(" | ").Length);
        Assert.All(result.Error.Split(" | "), part => Assert.Contains("file not found", part));
    }

    [Fact]
    public async Task A_diverging_trial_is_not_retried_because_it_would_diverge_again()
    {
        var spec = SpecParser.Parse("""
            { "name": "noretry", "maxAttempts": 3, "regularizer": "l2",
              "training": { "epochs": 1, "trainLimit": 500 }, "search": { "strategy": "grid", "space": { "lambda": [1e6] } } }
            """, null);
        var result = await OnlyTrialAsync(spec);
        Assert.Equal(TrialStatus.Failed, result.Status);
        Assert.Equal(1, result.Attempts);
        Assert.Contains("diverged", result.Error);
    }
}
