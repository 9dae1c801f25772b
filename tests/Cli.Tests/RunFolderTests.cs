using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Sweep.Cli.Tests;

/// <summary>
/// A run folder never loses or mixes results (docs/interface.md, "Resuming a run"): a changed spec sets results aside
/// instead of deleting them, a bad line is re-run and kept aside, one run holds a folder at a time, and a full disk or a
/// read-only folder ends the run with one line.
/// </summary>
public sealed class RunFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-folder-").FullName;

    public void Dispose()
    {
        foreach (var mount in _mounts) Run("umount", "-l", mount);
        Directory.Delete(_dir, recursive: true);
    }

    private readonly List<string> _mounts = [];

    private const string Spec = """
        { "name": "folder", "training": { "epochs": 1, "trainLimit": 500 }, "regularizer": "l2",
          "search": { "strategy": "grid", "space": { "lambda": [1e-5, 1e-3], "pruneRate": [0.5, 0.9] } } }
        """;

    private string Write(string body, string name)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, body);
        return path;
    }

    private static string[] Lines(string path) => File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).ToArray() : [];

    private static string[] Ids(string path) =>
        Lines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("trialId").GetString()!).Order().ToArray();

    private static int Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            p.WaitForExit(10_000);
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }

    [Fact]
    public async Task A_changed_spec_sets_earlier_results_aside_and_a_later_run_takes_them_back()
    {
        string outDir = Path.Combine(_dir, "run"), trials = Path.Combine(outDir, "trials.jsonl");
        string full = Write(Spec, "full.json");
        Assert.Equal(0, (await SweepProcess.RunAsync(["run", full, "--out", outDir])).ExitCode);
        var all = Ids(trials);
        Assert.Equal(4, all.Length);

        // Half the plan: the other half's results move to earlier/KEY/trials.jsonl, none is deleted.
        string half = Write(Spec.Replace("[1e-5, 1e-3]", "[1e-5]"), "half.json");
        var run = await SweepProcess.RunAsync(["run", half, "--out", outDir]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("2 earlier result(s) this plan does not use are kept in", run.Stderr);
        string aside = Directory.GetFiles(Path.Combine(outDir, "earlier"), "trials.jsonl", SearchOption.AllDirectories).Single();
        Assert.Equal(2, Ids(trials).Length);
        Assert.Equal(all, Ids(trials).Concat(Ids(aside)).Order());

        // The whole plan again: the set-aside results come back, nothing trains.
        run = await SweepProcess.RunAsync(["run", full, "--out", outDir]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("keeping 4 completed trial(s), running the other 0", run.Stderr);
        Assert.Equal(all, Ids(trials));
        Assert.Empty(Lines(aside));

        // One half, then the other: each run sets the other half aside and takes its own back; none is lost on the way.
        string other = Write(Spec.Replace("[1e-5, 1e-3]", "[1e-3]"), "other.json");
        Assert.Equal(0, (await SweepProcess.RunAsync(["run", half, "--out", outDir])).ExitCode);
        run = await SweepProcess.RunAsync(["run", other, "--out", outDir]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("keeping 2 completed trial(s), running the other 0", run.Stderr);
        Assert.Equal(all, Ids(trials).Concat(Ids(aside)).Order());
        Assert.Equal(0, (await SweepProcess.RunAsync(["run", full, "--out", outDir])).ExitCode);
        Assert.Equal(all, Ids(trials));

        // Another train limit: trial ids do not cover it, so all four are set aside with their spec and all four run again.
        string limit = Write(Spec.Replace("\"trainLimit\": 500", "\"trainLimit\": 400"), "limit.json");
        run = await SweepProcess.RunAsync(["run", limit, "--out", outDir]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("names another dataset or train limit: its 4 result(s) are kept in", run.Stderr);
        // They go where the same data's results are set aside: a run with train limit 500 takes them back from there.
        Assert.Equal(all, Ids(aside));
        Assert.Contains("\"trainLimit\": 500", File.ReadAllText(Path.Combine(Path.GetDirectoryName(aside)!, "spec.json")));
        Assert.Equal(all, Ids(trials));
        Assert.All(Lines(trials), l => Assert.DoesNotContain(Lines(aside), o => o == l));
    }

    [Fact]
    public async Task A_kept_line_out_of_range_or_unreadable_is_set_aside_and_its_trial_runs_again()
    {
        string outDir = Path.Combine(_dir, "run"), trials = Path.Combine(outDir, "trials.jsonl");
        string spec = Write(Spec, "spec.json");
        Assert.Equal(0, (await SweepProcess.RunAsync(["run", spec, "--out", outDir])).ExitCode);
        var lines = Lines(trials).ToList();
        var edited = System.Text.Json.Nodes.JsonNode.Parse(lines[1])!;
        edited["accuracy"] = 7.5;
        edited["weightSparsity"] = -3;
        string bad = edited.ToJsonString();
        lines[1] = bad;
        lines.Insert(2, "{\"trialId\": \"garbage\"");
        var nulls = System.Text.Json.Nodes.JsonNode.Parse(lines[3])!;
        nulls["epochs"] = null;
        string broken = nulls.ToJsonString();
        lines[3] = broken;
        File.WriteAllLines(trials, lines);

        var run = await SweepProcess.RunAsync(["run", spec, "--out", outDir]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"{trials} line 2: accuracy 7.5 is outside [0, 1]; its trial runs again", run.Stderr);
        Assert.Contains($"{trials} line 3 is not a trial result", run.Stderr);
        Assert.Contains($"{trials} line 4 is not a trial result", run.Stderr);   // "epochs": null
        Assert.Contains("keeping 2 completed trial(s), running the other 2", run.Stderr);
        var rows = Lines(trials).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(4, rows.Length);
        Assert.All(rows, r => Assert.InRange(r.GetProperty("accuracy").GetDouble(), 0, 1));
        Assert.Equal([bad, "{\"trialId\": \"garbage\"", broken], Lines(Path.Combine(outDir, "earlier", "rejected.jsonl")));
        Assert.DoesNotContain("7.5", File.ReadAllText(Path.Combine(outDir, "front.json")));
    }

    [Fact]
    public async Task A_second_run_on_a_folder_exits_2_naming_the_holder_and_a_killed_holder_is_taken_over()
    {
        var ct = TestContext.Current.CancellationToken;
        string outDir = Path.Combine(_dir, "run");
        string slow = Write(Spec.Replace("\"epochs\": 1, \"trainLimit\": 500", "\"epochs\": 200, \"trainLimit\": 2000"), "slow.json");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { SweepProcess.Dll, "run", slow, "--out", outDir }) psi.ArgumentList.Add(a);
        using var first = Process.Start(psi)!;
        try
        {
            using (var wait = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
                while (!File.Exists(Path.Combine(outDir, "trials.jsonl"))) await Task.Delay(50, wait.Token);
            var second = await SweepProcess.RunAsync(["run", slow, "--out", outDir]);
            Assert.Equal(2, second.ExitCode);
            Assert.Equal($"sweep: {outDir} is in use by another sweep run (pid {first.Id}); wait for it to end, or give another --out",
                second.Stderr.Trim());
            first.Kill();   // SIGKILL: the kernel drops its lock
            await first.WaitForExitAsync(ct);
            string quick = Write(Spec, "quick.json");
            var third = await SweepProcess.RunAsync(["run", quick, "--out", outDir]);
            Assert.True(third.ExitCode == 0, third.Stderr);
        }
        finally
        {
            if (!first.HasExited) first.Kill(entireProcessTree: true);
        }
    }

    /// <summary>A tmpfs of <paramref name="kilobytes"/> (read-only when asked) at a new folder; null where mounting is refused.</summary>
    private string? Mount(int kilobytes, bool readOnly = false)
    {
        string at = Path.Combine(_dir, $"mnt{_mounts.Count}");
        Directory.CreateDirectory(at);
        string options = $"size={kilobytes}k" + (readOnly ? ",ro" : "");
        if (Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", at) != 0) return null;
        _mounts.Add(at);
        return at;
    }

    [Fact]
    public async Task A_full_disk_ends_the_run_within_seconds_with_one_line_and_every_stored_line_whole()
    {
        if (Mount(24) is not { } disk) { Assert.Skip("mounting a tmpfs needs root"); return; }
        string spec = Write(
            Spec.Replace("[1e-5, 1e-3]", "[1e-5, 1e-4, 1e-3]").Replace("[0.5, 0.9]", "[0.5, 0.6, 0.7, 0.8, 0.9]"), "spec.json");
        string outDir = Path.Combine(disk, "run");
        var clock = Stopwatch.StartNew();
        var run = await SweepProcess.RunAsync(["run", spec, "--out", outDir], timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(1, run.ExitCode);
        var said = run.Stderr.Split('\n').Where(l => l.StartsWith("sweep: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal([$"sweep: error: {outDir}/trials.jsonl: No space left on device; the results stored before are intact"], said);
        Assert.DoesNotContain("   at ", run.Stderr);
        var lines = Lines(Path.Combine(outDir, "trials.jsonl"));
        Assert.InRange(lines.Length, 1, 29);
        Assert.All(lines, l => JsonDocument.Parse(l));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_read_only_folder_exits_1_with_one_line_naming_the_file()
    {
        if (Mount(64, readOnly: true) is not { } disk) { Assert.Skip("mounting a tmpfs needs root"); return; }
        string spec = Write(Spec, "spec.json");
        var run = await SweepProcess.RunAsync(["run", spec, "--out", Path.Combine(disk, "run")]);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"sweep: error: Read-only file system : '{Path.Combine(disk, "run")}'", run.Stderr.Trim());
    }
}
