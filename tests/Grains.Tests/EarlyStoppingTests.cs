using Sweep.Core.Models;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>pareto-asha on the real cluster: trials stop at the rung with their epochs, and stay off both fronts.</summary>
[Collection(ClusterCollection.Name)]
public sealed class EarlyStoppingTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Trials_dominated_at_the_rung_stop_there_keep_their_epochs_and_stay_off_the_fronts()
    {
        // λ = 0.1 of l1 ruins accuracy; the grid runs the good λ first, so completed good trials are there to compare with.
        var spec = SweepClusterTests.Spec("es", "\"lambda\": [1e-5, 0.1], \"pruneRate\": [0.3, 0.5, 0.7, 0.9]", epochs: 3,
            extra: """, "regularizer": "l1", "earlyStopping": { "method": "pareto-asha", "rungs": [1], "keep": 0.5 }""");
        string id = $"es-{Guid.NewGuid():N}";
        var coordinator = fixture.Client.GetGrain<ISweepCoordinatorGrain>(id);
        await coordinator.SubmitAsync(spec, []);
        var done = await SweepClusterTests.WaitAsync(fixture.Client, id, s => s.IsFinished, TimeSpan.FromMinutes(3));
        var results = await coordinator.GetResultsAsync(0, 100);

        var stopped = results.Where(r => r.Status == TrialStatus.Stopped).ToArray();
        Assert.Equal(8, done.Done);
        Assert.Equal(stopped.Length, done.Stopped);
        Assert.Equal(8 - stopped.Length, done.Completed);
        // Every ruined trial is stopped: a completed trial with as high a rate was better at epoch 1, or it ranks low.
        Assert.All(results.Where(r => r.Params.Lambda == 0.1), r => Assert.Equal(TrialStatus.Stopped, r.Status));
        Assert.All(stopped, r =>
        {
            Assert.Equal(1, r.Rung);
            Assert.Equal([1], r.Epochs.Select(e => e.Epoch));   // trained to the rung, not one epoch more
            Assert.StartsWith("stopped at rung 1: ", r.Error);
            Assert.Equal(r.Epochs[0].Accuracy, r.Accuracy);
        });
        Assert.All(results.Where(r => r.Status == TrialStatus.Completed), r => Assert.Equal(3, r.Epochs.Count));
        var front = (await coordinator.GetFrontAsync())!;
        var onFronts = front.Points.Concat(front.NodeFront!.Points).Select(p => p.TrialId).ToHashSet();
        Assert.DoesNotContain(stopped, r => onFronts.Contains(r.TrialId));
    }
}
