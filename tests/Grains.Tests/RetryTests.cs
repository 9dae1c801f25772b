using Microsoft.Extensions.DependencyInjection;
using Sweep.Training;
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
        // The silo checks the files on submit, so they must vanish later: every silo's one place is held by a trial
        // that trains until released (straight through each silo's slot pool, so no placement or timing decides where),
        // the spec is submitted (checked, its trial waits for a place), the file is deleted, then the places are freed.
        var pools = fixture.Cluster.Silos.Select(s => fixture.Cluster.GetSiloServiceProvider(s.SiloAddress)
            .GetRequiredService<TrialSlotPool>()).ToArray();
        using var release = new CancellationTokenSource();
        var hold = new TrialSettings { Params = new() { Epochs = 10_000 }, TrainLimit = 500 };
        var holds = pools.Select(pool => Task.Run(async () =>
        {
            try { await pool.TrainAsync(hold, "hold", null, release.Token); }
            catch (OperationCanceledException) { }
        })).ToArray();
        using (var wait = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while (pools.Any(p => p.Free > 0)) await Task.Delay(20, wait.Token);
        var coordinator = fixture.Client.GetGrain<ISweepCoordinatorGrain>($"{spec.Name}-{Guid.NewGuid():N}");
        await coordinator.SubmitAsync(spec, []);
        File.Delete(myImages);
        await release.CancelAsync();
        await Task.WhenAll(holds);

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
