using System.Text.Json;
using Xunit;

namespace Sweep.Cli.Tests;

public sealed class RunCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sweep-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteSpec(string body, string name = "spec.json")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, body);
        return path;
    }

    private const string TinySpec = """
        {
          "name": "tiny",
          "dataset": "mnist10k",
          "model": "mlp",
          "training": { "epochs": 1, "trainLimit": 1000 },
          "regularizer": "l2",
          "search": { "strategy": "grid", "space": { "lambda": [1e-5, 1e-3], "pruneRate": [0.5, 0.9] } },
          "seeds": [0]
        }
        """;

    private static (double, double)[] Objectives(IEnumerable<JsonElement> rows, string y) =>
        rows.Select(r => (r.GetProperty("accuracy").GetDouble(), r.GetProperty(y).GetDouble())).ToArray();

    /// <summary>The non-dominated set by the definition, O(n²), independent of the production code.</summary>
    private static string[] NonDominated(IReadOnlyList<JsonElement> rows, string y)
    {
        var v = Objectives(rows, y);
        return rows.Where((_, i) => !v.Where((_, j) => j != i)
                .Any(o => o.Item1 >= v[i].Item1 && o.Item2 >= v[i].Item2 && (o.Item1 > v[i].Item1 || o.Item2 > v[i].Item2)))
            .Select(r => r.GetProperty("trialId").GetString()!).Order().ToArray();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [Fact]
    public async Task Run_with_ui_serves_the_api_and_dashboard_on_loopback_until_stopped()
    {
        var ct = TestContext.Current.CancellationToken;
        string spec = WriteSpec(TinySpec);
        string outDir = Path.Combine(_dir, "ui");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var a in new[] { SweepProcess.Dll, "run", spec, "--out", outDir, "--ui" }) psi.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = new List<string>();
        var finished = new TaskCompletionSource();
        var announced = new TaskCompletionSource<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            lock (stderr) stderr.Add(line);
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^sweep: dashboard at (http://127\.0\.0\.1:\d+/)#/sweep/(\S+) ");
            if (m.Success) announced.TrySetResult(m.Groups[1].Value + " " + m.Groups[2].Value);
            if (line == "sweep: finished; the dashboard stays up until Ctrl+C") finished.TrySetResult();
        };
        process.BeginErrorReadLine();
        try
        {
            string[] said = (await announced.Task.WaitAsync(TimeSpan.FromMinutes(2), ct)).Split(' ');
            using var http = new HttpClient { BaseAddress = new Uri(said[0]), Timeout = TimeSpan.FromMinutes(2) };
            string id = Uri.UnescapeDataString(said[1]);
            // The events stream to its end, then the status says every trial finished; the page is served.
            string events = await http.GetStringAsync($"api/sweeps/{id}/events", ct);
            Assert.EndsWith("event: end\ndata: {}\n\n", events);
            var status = JsonDocument.Parse(await http.GetStringAsync($"api/sweeps/{id}", ct)).RootElement;
            Assert.Equal(4, status.GetProperty("completed").GetInt32());
            await finished.Task.WaitAsync(TimeSpan.FromMinutes(1), ct);
            Assert.Contains("<title>Sweep</title>", await http.GetStringAsync("", ct));
            // No token on a laptop: loopback names only (a DNS-rebinding page's Host is its own name) and no foreign Origin.
            using (var rebound = new HttpRequestMessage(HttpMethod.Get, $"api/sweeps/{id}"))
            {
                rebound.Headers.Host = "attacker.example";
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await http.SendAsync(rebound, ct)).StatusCode);
            }
            using (var foreign = new HttpRequestMessage(HttpMethod.Post, "api/sweeps") { Content = new StringContent(TinySpec) })
            {
                foreign.Headers.Add("Origin", "http://attacker.example");
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await http.SendAsync(foreign, ct)).StatusCode);
            }
            // A sweep submitted through the API (same trials, another train limit) gets its own store, never the run's.
            using (var post = new HttpRequestMessage(HttpMethod.Post, "api/sweeps")
                   { Content = new StringContent(TinySpec.Replace("\"trainLimit\": 1000", "\"trainLimit\": 600")) })
            {
                var answer = await http.SendAsync(post, ct);
                Assert.Equal(System.Net.HttpStatusCode.Created, answer.StatusCode);
                string other = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("id").GetString()!;
                string path = $"api/sweeps/{Uri.EscapeDataString(other)}";
                Assert.EndsWith("event: end\ndata: {}\n\n", await http.GetStringAsync($"{path}/events", ct));
                var theirs = JsonDocument.Parse(await http.GetStringAsync($"{path}/trials", ct)).RootElement;
                Assert.Equal(4, theirs.GetProperty("trials").GetArrayLength());
                Assert.All(theirs.GetProperty("trials").EnumerateArray(), t => Assert.Equal(other, t.GetProperty("sweepId").GetString()));
                Assert.Equal(4, File.ReadAllLines(Path.Combine(outDir, "api-sweeps", other, "trials.jsonl")).Length);
            }
            var ours = JsonDocument.Parse(await http.GetStringAsync($"api/sweeps/{id}/trials", ct)).RootElement;
            Assert.Equal(4, ours.GetProperty("total").GetInt64());
            var lines = File.ReadAllLines(Path.Combine(outDir, "trials.jsonl"));
            Assert.Equal(4, lines.Length);
            Assert.All(lines, l => Assert.Equal(id, JsonDocument.Parse(l).RootElement.GetProperty("sweepId").GetString()));
            // SIGTERM (as Ctrl+C) ends it cleanly: exit 0, the front table printed, the files written.
            Assert.Equal(0, Kill(process.Id, 15));
            await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromMinutes(1), ct);
            Assert.True(process.ExitCode == 0, string.Join('\n', stderr));
            Assert.Contains("4 completed, 0 failed, 0 cancelled of 4 trials", await stdout);
            Assert.True(File.Exists(Path.Combine(outDir, "front.json")));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Early_stopping_takes_members_out_of_a_fused_group_at_the_rung_and_off_the_front()
    {
        // One slot fusing all 8 trials: they reach epoch 1 together, and those the rule stops leave the group there.
        string spec = WriteSpec("""
            { "name": "es", "model": "mlp", "training": { "epochs": 3, "trainLimit": 1000 }, "regularizer": "l1",
              "earlyStopping": { "method": "pareto-asha", "rungs": [1], "keep": 0.5 },
              "search": { "strategy": "grid", "space": { "lambda": [1e-5, 0.1], "pruneRate": [0.3, 0.5, 0.7, 0.9] } } }
            """);
        string outDir = Path.Combine(_dir, "out");
        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir, "--slots", "1", "--fuse", "8"],
            timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var trials = File.ReadAllLines(Path.Combine(outDir, "trials.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var stopped = trials.Where(t => t.GetProperty("status").GetString() == "stopped").ToArray();
        var completed = trials.Where(t => t.GetProperty("status").GetString() == "completed").ToArray();
        Assert.Equal(8, stopped.Length + completed.Length);
        Assert.NotEmpty(stopped);
        Assert.NotEmpty(completed);
        Assert.All(stopped, t =>
        {
            Assert.Equal(1, t.GetProperty("rung").GetInt32());
            Assert.Equal(1, t.GetProperty("epochs").GetArrayLength());
            Assert.StartsWith("stopped at rung 1: ", t.GetProperty("error").GetString());
        });
        Assert.All(completed, t => Assert.Equal(3, t.GetProperty("epochs").GetArrayLength()));
        Assert.Contains($"{stopped.Length} stopped early of 8 trials", r.Stdout);
        var front = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "front.json"))).RootElement;
        var onFronts = front.GetProperty("points").EnumerateArray()
            .Concat(front.GetProperty("nodeFront").GetProperty("points").EnumerateArray())
            .Select(p => p.GetProperty("trialId").GetString()).ToHashSet();
        Assert.DoesNotContain(stopped, t => onFronts.Contains(t.GetProperty("trialId").GetString()));
    }

    [Fact]
    public async Task Run_writes_all_four_files_and_the_front_is_the_non_dominated_set_of_the_trials()
    {
        string spec = WriteSpec(TinySpec);
        string outDir = Path.Combine(_dir, "out");
        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir, "--json"], timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.Stderr);

        foreach (var f in new[] { "spec.json", "trials.jsonl", "front.json", "front.svg" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        Assert.Equal(TinySpec, File.ReadAllText(Path.Combine(outDir, "spec.json")));
        var trials = File.ReadAllLines(Path.Combine(outDir, "trials.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(4, trials.Length);
        Assert.Equal(4, trials.Select(t => t.GetProperty("trialId").GetString()).Distinct().Count());
        Assert.All(trials, t => Assert.Equal("completed", t.GetProperty("status").GetString()));

        var front = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "front.json"))).RootElement;
        Assert.Equal(front.ToString(), JsonDocument.Parse(r.Stdout).RootElement.ToString());   // --json prints front.json
        Assert.Equal(NonDominated(trials, "weightSparsity"),
            front.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("trialId").GetString()!).Order());
        Assert.Equal(NonDominated(trials, "nodeSparsity"), front.GetProperty("nodeFront").GetProperty("points").EnumerateArray()
            .Select(p => p.GetProperty("trialId").GetString()!).Order());
        Assert.Equal(new[] { "accuracy", "weightSparsity" }, front.GetProperty("objectives").EnumerateArray().Select(o => o.GetString()));
        Assert.True(front.GetProperty("hypervolume").GetDouble() > 0);
        Assert.Contains("weight sparsity", File.ReadAllText(Path.Combine(outDir, "front.svg")));

        // Running again into the same folder keeps every completed trial and trains none.
        var again = await SweepProcess.RunAsync(["run", spec, "--out", outDir], timeout: TimeSpan.FromMinutes(2));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("keeping 4 completed trial(s)", again.Stderr);
        var trialsAgain = File.ReadAllLines(Path.Combine(outDir, "trials.jsonl"));
        Assert.Equal(trials.Select(t => t.ToString()).Order(),
            trialsAgain.Select(l => JsonDocument.Parse(l).RootElement.ToString()).Order());
    }

    [Theory]
    [InlineData("{ \"name\": \"x\", ", "spec")]                                                                          // malformed JSON
    [InlineData("""{ "name": "x", "search": { "strategy": "bayes", "space": { "lambda": [1e-4] } } }""", "search.strategy")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "lambda": [1e-4, 0] } } }""", "search.space.lambda[1]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "lambda": [-1e-4] } } }""", "search.space.lambda[0]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "pruneRate": [0.5, 1.0] } } }""", "search.space.pruneRate[1]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { "pruneRate": [-0.1] } } }""", "search.space.pruneRate[0]")]
    [InlineData("""{ "name": "x", "search": { "strategy": "grid", "space": { } } }""", "search.space")]
    [InlineData("""{ "name": "x", "dataset": { "images": "nope-images.gz", "labels": "nope-labels.gz" }, "search": """
        + """{ "strategy": "grid", "space": { "lambda": [1e-4] } } }""", "dataset.images")]
    [InlineData("""{ "name": "../escape", "search": { "strategy": "grid", "space": { "lambda": [1e-4] } } }""", "name")]
    public async Task Bad_specs_exit_2_with_one_line_naming_the_field(string body, string field)
    {
        string spec = WriteSpec(body);
        string outDir = Path.Combine(_dir, "out-bad");
        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir]);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith($"sweep: {field}: ", lines[0]);
        Assert.False(Directory.Exists(outDir));   // nothing written for a spec that is refused
    }

    [Theory]
    [InlineData("--fuse", "0")]
    [InlineData("--fuse", "257")]
    [InlineData("--fuse", "four")]
    [InlineData("--slots", "0")]
    public async Task Bad_run_flags_exit_2_with_one_line_naming_the_flag(string flag, string value)
    {
        string spec = WriteSpec("""{ "name": "flags", "training": { "epochs": 1, "trainLimit": 100 }, "search": """
            + """{ "strategy": "grid", "space": { "lambda": [1e-4] } } }""");
        string outDir = Path.Combine(_dir, "out-flags");
        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir, flag, value]);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith($"sweep: {flag}: ", lines[0]);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task A_missing_spec_file_exits_2_naming_it()
    {
        string missing = Path.Combine(_dir, "missing.json");
        var r = await SweepProcess.RunAsync(["run", missing]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(missing, r.Stderr);
    }

    /// <summary>Real digits as a CIFAR-10 folder: mnist10k padded to 32×32 and copied into three channels.</summary>
    internal static string MnistAsCifar(string dir, int perBatch)
    {
        var mnist = Sweep.Core.Data.DatasetReader.Read(Sweep.Core.Models.DatasetRef.Mnist10k).Train;
        var (train, test) = Sweep.Core.Data.CifarReader.Files(dir, hundred: false);
        Directory.CreateDirectory(dir);
        // The IDX files are sorted by label: draw the samples in a shuffled order so every batch holds every digit.
        int[] order = Sweep.Core.SplitMix64.Permutation(mnist.Count, 1);
        int next = 0;
        foreach (string file in train.Concat(test))
        {
            var bytes = new byte[perBatch * (1 + 3072)];
            for (int r = 0; r < perBatch; r++)
            {
                int sample = order[next++];
                int at = r * 3073;
                bytes[at] = (byte)mnist.Labels[sample];
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < 28; y++)
                        mnist.Bytes.AsSpan(sample * 784 + y * 28, 28).CopyTo(bytes.AsSpan(at + 1 + c * 1024 + (y + 2) * 32 + 2, 28));
            }
            File.WriteAllBytes(file, bytes);
        }
        return dir;
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("mismatched")]
    [InlineData("not-idx")]
    public async Task Run_and_submit_refuse_a_dataset_the_trials_cannot_read_with_exit_2_naming_the_file(string problem)
    {
        var mnist = Sweep.Core.Data.DatasetReader.BuiltIn("mnist10k");
        string images = Path.Combine(_dir, "images.gz"), labels = Path.Combine(_dir, "labels.gz");
        File.Copy(mnist.Images, images);
        File.Copy(mnist.Labels, labels);
        string bad = problem == "mismatched" ? labels : images;
        byte[] original = File.ReadAllBytes(bad);
        File.WriteAllBytes(bad, problem switch
        {
            // The images' header says 10,000 × 28 × 28, but the data stops after 50,000 bytes.
            "truncated" => Gzip(Ungzip(original)[..50_000]),
            // 9,999 labels for 10,000 images: the count in the header (bytes 4-7) and the data agree with each other.
            "mismatched" => Gzip([0, 0, 8, 1, 0, 0, 0x27, 0x0f, .. Ungzip(original)[8..^1]]),
            _ => [1, 2, 3, 4, 5, 6, 7, 8, 9],
        });
        string spec = WriteSpec($$"""
            { "name": "baddata", "dataset": { "images": "images.gz", "labels": "labels.gz" },
              "search": { "strategy": "grid", "space": { "lambda": [1e-4] } } }
            """);
        string outDir = Path.Combine(_dir, "out-baddata");

        foreach (var args in new[] { new[] { "run", spec, "--out", outDir }, ["submit", spec, "--gateway", "1"] })
        {
            var r = await SweepProcess.RunAsync(args);
            Assert.Equal(2, r.ExitCode);
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith($"sweep: {bad}: ", lines[0]);
        }
        Assert.False(Directory.Exists(outDir));
    }

    private static byte[] Ungzip(byte[] bytes)
    {
        using var input = new System.IO.Compression.GZipStream(new MemoryStream(bytes), System.IO.Compression.CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest)) gzip.Write(bytes);
        return output.ToArray();
    }

    [Fact]
    public async Task A_sweep_trains_on_a_cifar_folder_with_inputs_of_three_channels()
    {
        string cifar = MnistAsCifar(Path.Combine(_dir, "cifar"), perBatch: 1000);
        string spec = WriteSpec("""
            { "name": "cifar", "dataset": { "cifar10": "cifar" }, "training": { "epochs": 2 },
              "search": { "strategy": "grid", "space": { "regularizer": ["l1", "l2"], "lambda": [1e-4], "pruneRate": [0.9] } } }
            """);
        string outDir = Path.Combine(_dir, "out-cifar");

        var r = await SweepProcess.RunAsync(["run", spec, "--out", outDir], timeout: TimeSpan.FromMinutes(4));

        Assert.True(r.ExitCode == 0, r.Stderr);
        var trials = File.ReadAllLines(Path.Combine(outDir, "trials.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(2, trials.Length);
        Assert.All(trials, t =>
        {
            Assert.Equal(3 * 32 * 32 * 300, t.GetProperty("layers")[0].GetProperty("weights").GetInt64());
            Assert.True(t.GetProperty("accuracy").GetDouble() > 0.8, t.GetRawText()[..200]);   // 5,000 digits, 2 epochs; chance is 0.1
        });

        // lenet5 cannot take 3×32×32 images: refused before anything runs, naming the model.
        string lenet = WriteSpec("""
            { "name": "cifar-lenet", "dataset": { "cifar10": "cifar" }, "model": "lenet5",
              "search": { "strategy": "grid", "space": { "lambda": [1e-4] } } }
            """, "lenet.json");
        var refused = await SweepProcess.RunAsync(["run", lenet, "--out", Path.Combine(_dir, "out-lenet")]);
        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith("sweep: model: lenet5 takes 1×28×28 images, the dataset's are 3×32×32", refused.Stderr);
    }

    [Fact]
    public async Task Submit_refuses_a_model_the_built_in_images_cannot_feed_without_reading_them()
    {
        string spec = WriteSpec("""
            { "name": "vgg-mnist", "model": "vgg16", "search": { "strategy": "grid", "space": { "lambda": [1e-4] } } }
            """, "vgg-mnist.json");

        var r = await SweepProcess.RunAsync(["submit", spec, "--gateway", "1"]);

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("sweep: model: vgg16 halves its images 5 times", r.Stderr);
    }
}
