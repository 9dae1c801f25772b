using Sweep.Core;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>
/// The silo's side of the security issue on an in-process cluster: internal methods refuse ordinary clients, the public
/// API answers them, submitted specs are checked again on the silo, and a sweep's limits hold.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SecurityLimitTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private static SweepSpec Spec(string name, string space, int epochs = 1, string extra = "") =>
        SweepClusterTests.Spec(name, space, epochs, extra: extra);

    private ISweepCoordinatorGrain Coordinator(string id) => fixture.Client.GetGrain<ISweepCoordinatorGrain>(id);

    private Task<SweepStatus> WaitAsync(string id, Func<SweepStatus, bool> until) =>
        SweepClusterTests.WaitAsync(fixture.Client, id, until, Deadline);

    [Fact]
    public async Task A_plain_client_may_call_the_public_api_but_no_internal_method()
    {
        var spec = Spec("plain", "\"pruneRate\": [0.5, 0.7]", extra: ", \"lambda\": 1e-5, \"regularizer\": \"l2\"");
        string id = $"plain-{Guid.NewGuid():N}";
        var planned = SearchSpace.Expand(spec);
        var forged = new TrialResult
        {
            TrialId = planned[0].TrialId, SweepId = id, Status = TrialStatus.Completed, Params = planned[0].Params,
            Accuracy = 0.987654, WeightSparsity = 0.99, NodeSparsity = 0.99, Silo = "forger",
        };
        using (TestCredentials.AsPlainClient())
        {
            await Coordinator(id).SubmitAsync(spec, []);
            Assert.NotNull(await Coordinator(id).GetStatusAsync());
            var denied = await Assert.ThrowsAsync<SweepAccessDeniedException>(() => Coordinator(id).ReportResultAsync(forged));
            Assert.Contains("ReportResultAsync is internal to the cluster", denied.Message);
            // ReportProgress is one-way: the filter drops a client's call the same way, but no answer tells the caller.
            await Assert.ThrowsAsync<SweepAccessDeniedException>(() =>
                fixture.Client.GetGrain<ISlotRegistryGrain>(0)
                    .AdvertiseAsync("forger", new SiloSlots(1000, 0, new Dictionary<string, int>(), 1000)));
            await Assert.ThrowsAsync<SweepAccessDeniedException>(() =>
                fixture.Client.GetGrain<ITrialGrain>($"{id}/{planned[0].TrialId}").CancelAsync());
            // Orleans' own extensions on Sweep's grains are internal too (a client could otherwise deactivate trials).
            await Assert.ThrowsAsync<SweepAccessDeniedException>(async () => await fixture.Client
                .GetGrain<ITrialGrain>($"{id}/{planned[0].TrialId}").Cast<Orleans.Core.Internal.IGrainManagementExtension>()
                .DeactivateOnIdle());
        }
        var done = await WaitAsync(id, s => s.IsFinished && s.Running == 0);
        Assert.Equal(SweepState.Completed, done.State);
        var results = await Coordinator(id).GetResultsAsync(0, 100);
        var first = Assert.Single(results, r => r.TrialId == planned[0].TrialId);
        Assert.NotEqual("forger", first.Silo);
        Assert.NotEqual(0.987654, first.Accuracy);
        Assert.False((await fixture.Client.GetGrain<ISlotRegistryGrain>(0).GetSlotsAsync()).ContainsKey("forger"));
    }

    [Fact]
    public async Task The_silo_checks_a_submitted_spec_again_and_refuses_with_the_field()
    {
        // A spec object built past the parser (as any client could send it): the silo's own check names the field.
        var spec = Spec("recheck", "\"pruneRate\": [0.5]", extra: ", \"lambda\": 1e-5");
        var bad = spec with { MaxAttempts = 1000 };
        var refused = await Assert.ThrowsAsync<SweepRefusedException>(
            () => Coordinator($"recheck-{Guid.NewGuid():N}").SubmitAsync(bad, []));
        Assert.Equal("maxAttempts", refused.Field);
        var dev = spec with { Dataset = new DatasetRef { Images = "/dev/zero", Labels = "/dev/zero" } };
        refused = await Assert.ThrowsAsync<SweepRefusedException>(() => Coordinator($"recheck-{Guid.NewGuid():N}").SubmitAsync(dev, []));
        Assert.Equal("dataset", refused.Field);
        Assert.Contains("not a regular file", refused.Reason);
    }

    [Fact]
    public async Task A_sweep_over_its_budget_stops_cancelled_with_the_reason_and_starts_no_more_trials()
    {
        var spec = Spec("budget", "\"pruneRate\": [0.3, 0.5, 0.7, 0.9]", epochs: 2, extra: ", \"lambda\": 1e-5, \"trialEpochBudget\": 5");
        string id = $"budget-{Guid.NewGuid():N}";
        await Coordinator(id).SubmitAsync(spec, []);
        var done = await WaitAsync(id, s => s.IsFinished && s.Running == 0);
        Assert.Equal(SweepState.Cancelled, done.State);
        // 5 trial-epochs buy two 2-epoch trials; the other two are never started.
        Assert.Equal(2, done.Completed);
        Assert.Equal(2, done.Cancelled);
        Assert.StartsWith("budget spent: 4 of trialEpochBudget 5", done.Reason);
        var results = await Coordinator(id).GetResultsAsync(0, 100);
        Assert.True(2 == results.Count(r => r.Status == TrialStatus.Cancelled && r.Epochs.Count == 0),
            string.Join("\n", results.Select(r => $"{r.TrialId} {r.Status} {r.Epochs.Count} {r.Error}")));
    }

    [Fact]
    public async Task A_trial_past_max_trial_seconds_fails_once_without_retries()
    {
        var spec = Spec("slow", "\"pruneRate\": [0.5]", epochs: 200,
            extra: ", \"lambda\": 1e-5, \"maxTrialSeconds\": 1, \"maxAttempts\": 3");
        string id = $"slow-{Guid.NewGuid():N}";
        await Coordinator(id).SubmitAsync(spec, []);
        var done = await WaitAsync(id, s => s.IsFinished && s.Running == 0);
        Assert.Equal(1, done.Failed);
        var result = Assert.Single(await Coordinator(id).GetResultsAsync(0, 10));
        Assert.Equal(TrialStatus.Failed, result.Status);
        Assert.Equal(1, result.Attempts);
        Assert.Contains("stopped after maxTrialSeconds (1 s)", result.Error);
    }

    [Fact]
    public async Task A_sweep_with_a_slot_share_takes_no_more_of_the_cluster()
    {
        var spec = Spec("share", "\"pruneRate\": [0.3, 0.5, 0.7, 0.9]", extra: ", \"lambda\": 1e-5, \"maxSlotShare\": 0.5");
        string id = $"share-{Guid.NewGuid():N}";
        var first = await Coordinator(id).SubmitAsync(spec, []);
        Assert.Equal(1, first.InFlightLimit);   // half of the cluster's 2 places
        int most = 0;
        while (true)
        {
            var s = await Coordinator(id).GetStatusAsync();
            most = Math.Max(most, s!.Running);
            if (s.IsFinished) break;
            await Task.Delay(20);
        }
        Assert.Equal(1, most);
    }

    [Theory]
    [InlineData("{ \"family\": \"mlp\", \"hidden\": [65536, 65536] }", 64,
        "has 4,347,133,962 parameters, more than this cluster's limit of 200,000,000 (Sweep:Limits:MaxModelParameters)")]
    [InlineData("{ \"family\": \"vgg\", \"layers\": [2048, 2048], \"classifier\": [16], \"batchNorm\": true }", 256,
        "would take about 19.32 GiB to train (batch 256), more than this cluster's limit of 8 GiB (Sweep:Limits:MaxTrialMemory)")]
    public async Task An_oversized_model_is_refused_on_submit_naming_model_the_size_and_the_cap(string model, int batch, string reason)
    {
        // The first: 4.3 billion parameters (70 GB to train); the second: 63 million parameters whose activations at
        // 28×28 without a pool take 19 GB for a batch of 256.
        var spec = SpecParser.Parse($$"""
            { "name": "big", "model": {{model}}, "training": { "epochs": 1, "batchSize": {{batch}} },
              "search": { "strategy": "grid", "space": { "pruneRate": [0.5] } } }
            """, null);
        var refused = await Assert.ThrowsAsync<SweepRefusedException>(() => Coordinator($"big-{Guid.NewGuid():N}").SubmitAsync(spec, []));
        Assert.Equal("model", refused.Field);
        Assert.EndsWith(reason, refused.Reason);
    }

    [Fact]
    public async Task A_client_without_the_cluster_key_may_not_call_the_management_grain()
    {
        var management = fixture.Client.GetGrain<IManagementGrain>(0);
        Assert.NotEmpty(await management.GetHosts(onlyActive: true));   // with the key: the cluster's own call
        using (TestCredentials.AsPlainClient())
        {
            var denied = await Assert.ThrowsAsync<SweepAccessDeniedException>(() => management.GetHosts(onlyActive: true));
            Assert.Contains("IManagementGrain", denied.Message);
            await Assert.ThrowsAsync<SweepAccessDeniedException>(() => management.ForceActivationCollection(TimeSpan.Zero));
            await Assert.ThrowsAsync<SweepAccessDeniedException>(() => management.GetDetailedGrainStatistics());
        }
    }
}
