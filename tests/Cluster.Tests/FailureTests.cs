using Sweep.Client;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Cluster.Tests;

/// <summary>Real silo processes sharing a real redis-server: silos die, the coordinator moves, the cluster restarts.</summary>
public sealed class FailureTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    /// <summary>
    /// 12 short trials: 2 regularizers × 2 λ × 3 rates, 12 epochs on 2,000 samples (about a second each; the silos train
    /// one trial per slot, unfused, so that trials finish one by one and a kill lands on a running one).
    /// </summary>
    private static SweepSpec Spec(string name, int epochs = 12) => SpecParser.Parse($$"""
        {
          "name": "{{name}}",
          "model": "mlp",
          "training": { "epochs": {{epochs}}, "trainLimit": 2000 },
          "search": { "strategy": "grid", "space": { "regularizer": ["l1", "l2"], "lambda": [1e-5, 1e-4], "pruneRate": [0.5, 0.7, 0.9] } }
        }
        """, null);

    private static async Task<SweepStatus> WaitAsync(SweepClient client, string id, Func<SweepStatus, bool> until, RealCluster cluster)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var s = await client.GetStatusAsync(id);
            if (until(s)) return s;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"sweep stuck at {s.Done}/{s.Total}, {s.Running} running\n{cluster.Logs()}");
            await Task.Delay(200);
        }
    }

    /// <summary>A silo that is training a trial of the sweep right now, other than the coordinator's.</summary>
    private static async Task<string> TrainingSiloAsync(SweepClient client, string id, RealCluster cluster)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var status = await client.GetStatusAsync(id);
            var running = await client.GetRunningAsync(id);
            if (running.FirstOrDefault(t => t.Epoch >= 1 && t.Silo != status.CoordinatorSilo) is { } trial) return trial.Silo;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no trial training off the coordinator's silo\n{cluster.Logs()}");
            await Task.Delay(200);
        }
    }

    private static async Task AssertEveryTrialExactlyOnceAsync(SweepClient client, string id, SweepSpec spec, RealCluster cluster)
    {
        var results = await client.GetResultsAsync(id);
        var planned = SearchSpace.Expand(spec).Select(p => p.TrialId).Order().ToArray();
        Assert.Equal(planned, results.Select(r => r.TrialId).Order().ToArray());
        Assert.All(results, r => Assert.Equal(TrialStatus.Completed, r.Status));
        var front = await client.GetFrontAsync(id);
        Assert.NotEmpty(front.Points);
        // Nothing of the trials stays in Redis once their results are stored. A trial clears its state when its own report
        // ends, and after a silo's SIGKILL that report may still be retrying (5 calls, 0.5–4 s apart, each waiting for its
        // answer or the dead silo's eviction) well after the sweep finished: the bound is that schedule, not 5 s.
        var leftover = await cluster.Redis.KeysAsync($"*/state/trial/{id}/*");
        for (int i = 0; i < 600 && leftover.Count > 0; i++)
        {
            await Task.Delay(100);
            leftover = await cluster.Redis.KeysAsync($"*/state/trial/{id}/*");
        }
        Assert.True(leftover.Count == 0, $"left in Redis a minute after the sweep finished: {string.Join(", ", leftover)}");
    }

    [Fact]
    public async Task A_silo_killed_during_training_loses_no_trial_and_duplicates_none()
    {
        await using var cluster = new RealCluster();
        for (int i = 0; i < 3; i++) cluster.StartSilo();
        var client = await cluster.ClientAsync();
        var spec = Spec("kill-one");
        string id = await client.SubmitAsync(spec);

        // Kill a silo that is training right now (not the coordinator's: that is the next test).
        string victim = await TrainingSiloAsync(client, id, cluster);
        cluster.Silos.Single(s => s.Name == victim).Kill();

        var done = await WaitAsync(client, id, s => s.IsFinished, cluster);
        Assert.Equal(12, done.Completed);
        await AssertEveryTrialExactlyOnceAsync(client, id, spec, cluster);
        var results = await client.GetResultsAsync(id);
        Assert.Contains(results, r => r.Attempts >= 2);   // at least the trial that was killed ran again
    }

    [Fact]
    public async Task The_coordinators_silo_killed_mid_sweep_and_the_sweep_completes_elsewhere()
    {
        await using var cluster = new RealCluster();
        for (int i = 0; i < 3; i++) cluster.StartSilo();
        var client = await cluster.ClientAsync();
        var spec = Spec("kill-coordinator");
        string id = await client.SubmitAsync(spec);

        var before = await WaitAsync(client, id, s => s.Completed >= 2, cluster);
        Assert.False(before.IsFinished);
        cluster.Silos.Single(s => s.Name == before.CoordinatorSilo).Kill();

        var done = await WaitAsync(client, id, s => s.IsFinished, cluster);
        Assert.NotEqual(before.CoordinatorSilo, done.CoordinatorSilo);
        Assert.Equal(12, done.Completed);
        await AssertEveryTrialExactlyOnceAsync(client, id, spec, cluster);
    }

    [Fact]
    public async Task After_the_whole_cluster_restarts_the_sweep_is_still_there_and_resumes()
    {
        await using var cluster = new RealCluster();
        for (int i = 0; i < 2; i++) cluster.StartSilo();
        var client = await cluster.ClientAsync();
        var spec = Spec("restart", epochs: 16);
        string id = await client.SubmitAsync(spec);
        var before = await WaitAsync(client, id, s => s.Completed >= 2, cluster);
        Assert.False(before.IsFinished);

        // SIGTERM every silo: running trials are handed back, state stays in Redis.
        foreach (var s in cluster.Silos) Assert.True(s.Terminate(TimeSpan.FromSeconds(60)), $"{s.Name} did not stop\n{cluster.Logs()}");
        for (int i = 0; i < 2; i++) cluster.StartSilo();
        await cluster.ReconnectAsync();
        client = await cluster.ClientAsync();

        var after = await client.GetStatusAsync(id);
        Assert.True(after.Completed >= before.Completed);
        Assert.Contains(await client.ListAsync(), s => s.SweepId == id);
        var done = await WaitAsync(client, id, s => s.IsFinished, cluster);
        Assert.Equal(12, done.Completed);
        await AssertEveryTrialExactlyOnceAsync(client, id, spec, cluster);
    }

    [Fact]
    public async Task Redis_restarted_empty_stops_every_silo_with_one_line_and_a_new_cluster_forms()
    {
        await using var cluster = new RealCluster();
        for (int i = 0; i < 2; i++) cluster.StartSilo();
        var client = await cluster.ClientAsync();
        string id = await client.SubmitAsync(Spec("lost", epochs: 30));
        // Both silos train (one place each): both are active, so both hold the cluster's mark.
        await WaitAsync(client, id, s => s.Running >= 2, cluster);

        // Redis without persistence killed and back, empty: the membership table and the sweep are gone.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        cluster.Redis.RestartEmpty();
        foreach (var silo in cluster.Silos)
        {
            Assert.True(silo.WaitForExit(TimeSpan.FromSeconds(60)), $"{silo.Name} did not stop\n{cluster.Logs()}");
            Assert.Equal(3, silo.ExitCode);
            Assert.Contains("Redis lost this cluster's data (restarted without persistence, or flushed)", silo.Log);
            // Orleans' membership update may fail a few times before the watch's next look, never for long.
            int loops = silo.Log.Split('\n').Count(l => l.Contains("bad argument #1 to 'find'", StringComparison.Ordinal));
            Assert.True(loops <= 10, $"{silo.Name} logged the membership error {loops} times\n{cluster.Logs()}");
        }
        var stopped = clock.Elapsed;

        // Started again on the empty Redis, the silos form a new cluster that runs sweeps.
        for (int i = 0; i < 2; i++) cluster.StartSilo();
        await cluster.ReconnectAsync();
        client = await cluster.ClientAsync();
        string again = await client.SubmitAsync(Spec("again", epochs: 1));
        var done = await WaitAsync(client, again, s => s.IsFinished, cluster);
        Assert.Equal(12, done.Completed);
        Assert.True(stopped < TimeSpan.FromSeconds(60), $"stopped after {stopped}");
    }
}
