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
        return await OnlyTrialAsync(coordinator);
    }

    private static async Task<TrialResult> OnlyTrialAsync(ISweepCoordinatorGrain coordinator)
    {
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
        // The silo checks the files on submit, so they must vanish later: both slots are kept busy by a long sweep, the
        // spec is submitted (checked, its trial waits for a slot), the file is deleted, then the long sweep is cancelled.
        // Placement reads the silos' last advertised slots (each silo's view refreshes every second): wait until both
        // look idle, or an earlier test's trials still counted busy can send both blocker trials to one silo.
        var registry = fixture.Client.GetGrain<ISlotRegistryGrain>(0);
        using (var idle = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while ((await registry.GetSlotsAsync()).Values.Any(s => s.Busy > 0)) await Task.Delay(100, idle.Token);
        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);
        var blocker = fixture.Client.GetGrain<ISweepCoordinatorGrain>($"blocker-{Guid.NewGuid():N}");
        await blocker.SubmitAsync(SpecParser.Parse("""
            { "name": "blocker", "training": { "epochs": 500, "trainLimit": 500 },
              "search": { "strategy": "grid", "space": { "pruneRate": [0.5, 0.6] } } }
            """, null), []);
        using (var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            while ((await blocker.GetRunningAsync(0, 10)).Count(t => t.Epoch >= 1) < 2) await Task.Delay(100, wait.Token);
        var coordinator = fixture.Client.GetGrain<ISweepCoordinatorGrain>($"{spec.Name}-{Guid.NewGuid():N}");
        await coordinator.SubmitAsync(spec, []);
        File.Delete(myImages);
        await blocker.CancelAsync();

        var result = await OnlyTrialAsync(coordinator);
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
