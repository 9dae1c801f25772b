// bench/dashboard: one `sweep silo --http-port` process runs a sweep of N one-epoch trials on a 100-image dataset (10 steps
// of 8 images, a pruning event at step 7, accuracy on 20 test images: real, varied fronts at a few ms a trial) while
//  - Chromium shows its dashboard page from the start (live-update latency: from the moment the silo's feed read a batch
//    of results to the end of the redraw that shows it; redraw time);
//  - a prober times GET status, front, a page of 100 trials and one trial, over windows of 10 s that alternate between
//    no watchers and W watchers of the events stream (p50/p99 per condition, and the silo's CPU per condition);
// then, with the sweep complete, the page is loaded 3 times from scratch (navigation to the drawn page).
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Sweep.Cluster.Tests;

string repo = Arg("--repo") ?? throw new ArgumentException("--repo");
int trials = int.Parse(Arg("--trials") ?? "100000");
int watchers = int.Parse(Arg("--watchers") ?? "50");
string work = Directory.CreateTempSubdirectory("sweep-dashboard-").FullName;
WriteTinyDataset(repo, work);
int port = FreePort(), http = FreePort(), gateway = FreePort();
var silo = Process.Start(new ProcessStartInfo("dotnet")
{
    ArgumentList = { Path.Combine(repo, "src/Cli/bin/Release/net10.0/sweep.dll"), "silo", "--port", $"{port}", "--primary", $"{port}",
        "--gateway", $"{gateway}", "--http-port", $"{http}", "--cluster-id", "dash-bench" },
    RedirectStandardOutput = true, RedirectStandardError = true,
})!;
silo.OutputDataReceived += (_, _) => { };
silo.ErrorDataReceived += (_, _) => { };
silo.BeginOutputReadLine();
silo.BeginErrorReadLine();
string baseUrl = $"http://127.0.0.1:{http}/";
using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 })
{
    BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5),
};
try
{
    for (int i = 0; ; i++)
    {
        try { if ((await client.GetAsync("api/sweeps")).IsSuccessStatusCode) break; }
        catch (HttpRequestException) when (i < 300) { }
        await Task.Delay(200);
    }
    Console.Error.WriteLine($"silo up; warm-up sweep of 2,000 trials");
    await WaitDone(await Submit("warmup", 2000));

    await using var browser = await Chromium.StartAsync(1400, 1000);
    string id = await Submit("dash", trials);
    var started = Stopwatch.StartNew();
    await browser.NavigateAsync($"{baseUrl}#/sweep/{id}");
    if (!await browser.WaitForAsync("window.sweepDash.ready", TimeSpan.FromMinutes(2))) throw new TimeoutException("page never ready");

    // Alternating windows until the sweep is done.
    var latency = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
    var cpu = new Dictionary<bool, (double Cpu, double Wall, long Done)> { [false] = default, [true] = default };
    bool with = false;
    var status = await Status(id);
    while (!(status.GetProperty("state").GetString() == "completed"))
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        long from = status.GetProperty("done").GetInt64();
        var streams = with ? Enumerable.Range(0, watchers).Select(_ => Watch(id, from, stop.Token)).ToList() : [];
        double cpu0 = CpuSeconds(silo.Id);
        long done0 = status.GetProperty("done").GetInt64();
        var wall = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            int offset = Random.Shared.Next((int)Math.Max(1, done0 - 100));
            string[] paths = [$"api/sweeps/{id}", $"api/sweeps/{id}/front", $"api/sweeps/{id}/trials?offset={offset}&limit=100"];
            foreach (string path in paths)
            {
                var t = Stopwatch.StartNew();
                using var r = await client.GetAsync(path);
                await r.Content.ReadAsByteArrayAsync();
                latency[with].Add(t.Elapsed.TotalMilliseconds);
            }
            await Task.Delay(20);
        }
        await Task.WhenAll(streams);
        status = await Status(id);
        var c = cpu[with];
        long done = status.GetProperty("done").GetInt64();
        cpu[with] = (c.Cpu + CpuSeconds(silo.Id) - cpu0, c.Wall + wall.Elapsed.TotalSeconds, c.Done + done - done0);
        Console.Error.WriteLine($"{started.Elapsed.TotalSeconds,6:F0} s  {done} done  window with {(with ? watchers : 0)} watchers");
        with = !with;
    }
    double sweepSeconds = status.GetProperty("elapsedSeconds").GetDouble();
    if (!await browser.WaitForAsync($"window.sweepDash.rows === {trials}", TimeSpan.FromMinutes(2)))
        throw new TimeoutException("page missed rows");
    var live = (await browser.EvaluateAsync("window.sweepDash.updateLatencies")).EnumerateArray().Select(v => v.GetDouble()).ToList();
    double lastDraw = (await browser.EvaluateAsync("window.sweepDash.lastDrawMs")).GetDouble();
    int draws = (await browser.EvaluateAsync("window.sweepDash.draws")).GetInt32();
    string parts = (await browser.EvaluateAsync("JSON.stringify(window.sweepDash.drawParts)")).GetString()!;

    // Page loads of the finished sweep.
    var loads = new List<(double Wall, double InPage)>();
    var loadParts = new List<string>();
    for (int i = 0; i < 3; i++)
    {
        await browser.NavigateAsync("about:blank");
        await Task.Delay(300);
        var t = Stopwatch.StartNew();
        await browser.NavigateAsync($"{baseUrl}#/sweep/{id}");
        string drawn = $"window.sweepDash && window.sweepDash.ready && window.sweepDash.rows === {trials}";
        if (!await browser.WaitForAsync(drawn, TimeSpan.FromMinutes(2)))
        {
            var shown = await browser.EvaluateAsync("document.querySelector('#main').innerText.slice(0, 300)");
            throw new TimeoutException($"page load: {shown}");
        }
        loads.Add((t.Elapsed.TotalMilliseconds, (await browser.EvaluateAsync("window.sweepDash.loadMs")).GetDouble()));
        var partsJson = await browser.EvaluateAsync("JSON.stringify([window.sweepDash.loadParts, window.sweepDash.drawParts])");
        loadParts.Add(partsJson.GetString()!);
    }
    var points = Stopwatch.StartNew();
    byte[] raw = await client.GetByteArrayAsync($"api/sweeps/{id}/points");
    double pointsMs = points.Elapsed.TotalMilliseconds;
    var gz = new MemoryStream();
    using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
    await browser.ScreenshotAsync(Path.Combine(work, "dashboard-100k.png"));

    Console.WriteLine($"trials {trials}, sweep {sweepSeconds:F1} s on this silo; dashboard open throughout; "
        + $"machine: {Environment.ProcessorCount} cores");
    Console.WriteLine("page load of the finished sweep (navigation → drawn, 3 runs): "
        + $"{string.Join(" / ", loads.Select(l => $"{l.Wall:F0} ms"))}"
        + $" (in page: {string.Join(" / ", loads.Select(l => $"{l.InPage:F0}"))} ms); /points {raw.Length / 1e6:F1} MB raw, "
        + $"{gz.Length / 1e6:F1} MB gzip, {pointsMs:F0} ms");
    Console.WriteLine($"  in page, ms [fetch, decode, draw] and the draw by part: {string.Join(" / ", loadParts)}");
    var worst = live.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(5).Select(x => $"#{x.i}: {x.v:F0} ms");
    Console.WriteLine($"  slowest live updates (batch: latency): {string.Join(", ", worst)}");
    Console.WriteLine($"live updates: {live.Count} batches, result read by the silo → drawn: "
        + $"p50 {P(live, 50):F0} ms, p99 {P(live, 99):F0} ms, "
        + $"max {live.DefaultIfEmpty().Max():F0} ms; {draws} redraws, the last (at {trials} rows) {lastDraw:F0} ms: {parts}");
    foreach (bool w in new[] { false, true })
    {
        var l = latency[w];
        var c = cpu[w];
        Console.WriteLine($"{(w ? watchers : 0),3} watchers: API p50 {P(l, 50):F1} ms, p99 {P(l, 99):F1} ms ({l.Count} requests); silo CPU "
            + $"{100 * c.Cpu / Math.Max(c.Wall, 1e-9):F0} % of one core over {c.Wall:F0} s; {c.Done / Math.Max(c.Wall, 1e-9):F0} trials/s");
    }
    Console.WriteLine($"screenshot: {Path.Combine(work, "dashboard-100k.png")}");
}
finally
{
    try { silo.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
}
return 0;

async Task<string> Submit(string name, int n)
{
    string spec = $$"""
        { "name": "{{name}}", "model": "mlp", "dataset": { "images": "{{work}}/tiny-images.idx", "labels": "{{work}}/tiny-labels.idx" },
          "training": { "epochs": 1, "batchSize": 8 },
          "search": { "strategy": "random", "trials": {{n}}, "seed": 1,
            "space": { "regularizer": ["l1", "l2"], "lambda": { "logUniform": [1e-6, 1e-2] }, "pruneRate": { "uniform": [0.1, 0.99] } } } }
        """;
    using var r = await client.PostAsync("api/sweeps", new StringContent(spec));
    string body = await r.Content.ReadAsStringAsync();
    if (r.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException(body);
    return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
}

async Task<JsonElement> Status(string id) => JsonDocument.Parse(await client.GetStringAsync($"api/sweeps/{id}")).RootElement.Clone();

async Task WaitDone(string id)
{
    while ((await Status(id)).GetProperty("state").GetString() != "completed") await Task.Delay(500);
}

async Task Watch(string id, long from, CancellationToken ct)
{
    try
    {
        using var r = await client.GetAsync($"api/sweeps/{id}/events?from={from}", HttpCompletionOption.ResponseHeadersRead, ct);
        var s = await r.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[1 << 16];
        while (await s.ReadAsync(buffer, ct) > 0) { }
    }
    catch (OperationCanceledException) { }
    catch (IOException) { }
}

static double P(List<double> values, int percentile)
{
    if (values.Count == 0) return double.NaN;
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
}

static double CpuSeconds(int pid)
{
    // utime + stime (fields 14 and 15 of /proc/PID/stat, after the command in parentheses), in clock ticks of 1/100 s.
    string stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
}

static int FreePort()
{
    using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

// 100 images of the built-in dataset, the first 10 of each digit (its files are sorted by label), as IDX files
// (80 train, 20 test by the fixed shuffled split).
static void WriteTinyDataset(string repo, string work)
{
    static byte[] Read(string path, int skip)
    {
        using var z = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var m = new MemoryStream();
        z.CopyTo(m);
        return m.ToArray()[skip..];
    }
    static byte[] Header(params int[] values) =>
        values.SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v }).ToArray();
    string data = Path.Combine(repo, "data/mnist10k");
    byte[] images = Read(Path.Combine(data, "mnist10k-images-idx3-ubyte.gz"), 16);
    byte[] labels = Read(Path.Combine(data, "mnist10k-labels-idx1-ubyte.gz"), 8);
    int[] picked = Enumerable.Range(0, labels.Length).GroupBy(i => labels[i]).SelectMany(g => g.Take(10)).ToArray();
    File.WriteAllBytes(Path.Combine(work, "tiny-images.idx"),
        [.. Header(2051, picked.Length, 28, 28), .. picked.SelectMany(i => images.AsSpan(i * 784, 784).ToArray())]);
    File.WriteAllBytes(Path.Combine(work, "tiny-labels.idx"), [.. Header(2049, picked.Length), .. picked.Select(i => labels[i])]);
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
