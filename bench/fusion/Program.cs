using System.Diagnostics;
using Sweep.Core.Models;
using Sweep.Training;
using Sweep.Training.Fusion;
using TorchSharp;
using static TorchSharp.torch;

// usage: fusion-bench [--widths 1,4,8,16] [--threads 1] [--epochs 5] [--sgemm] [--rates 0.5,0.7,0.9,0.98]
//        [--sparse auto|off|always] [--below 0.4] [--below2 0.5] [--kernels [--alive 1,0.5,0.1]]
var argv = args.ToList();
string Opt(string name, string fallback) { int i = argv.IndexOf(name); return i >= 0 && i + 1 < argv.Count ? argv[i + 1] : fallback; }
int threads = int.Parse(Opt("--threads", "1"));
int epochs = int.Parse(Opt("--epochs", "5"));
var widths = Opt("--widths", "1,4,8,16").Split(',').Select(int.Parse).ToArray();
// --sparse off: the dense kernels throughout (the code before exact sparse training); always: sparse from the first step.
var invariant = System.Globalization.CultureInfo.InvariantCulture;
var sparse = Opt("--sparse", "auto") switch
{
    "off" => SparseTraining.Off,
    "always" => SparseTraining.Always,
    _ => SparseTraining.Auto,
};
if (argv.Contains("--below")) sparse = sparse with { FirstBelow = double.Parse(Opt("--below", "0.4"), invariant) };
if (argv.Contains("--below2")) sparse = sparse with { SecondBelow = double.Parse(Opt("--below2", "0.5"), invariant) };
torch.set_num_threads(threads);

if (argv.Contains("--sgemm"))
{
    // The machine's sgemm peak on this thread budget: the best of a few large square products.
    double best = 0;
    foreach (int size in new[] { 1024, 2048 })
    {
        using var a = torch.rand(size, size); using var b = torch.rand(size, size);
        for (int rep = 0; rep < 5; rep++)
        {
            var sw = Stopwatch.StartNew();
            using var c = a.mm(b);
            best = Math.Max(best, 2.0 * size * size * size / sw.Elapsed.TotalSeconds / 1e9);
        }
    }
    Console.WriteLine($"sgemm peak ({threads} thread(s)): {best:F1} GFLOP/s");
    return;
}

if (argv.Contains("--ops"))
{
    int K = int.Parse(Opt("--k", "16"));
    using var x = torch.rand(64, 784); using var w1 = torch.rand(K * 300, 784); using var g1 = torch.zeros(K * 300, 784);
    using var a1 = torch.rand(K, 64, 300); using var w2 = torch.rand(K, 100, 300); using var dz2 = torch.rand(K, 64, 100);
    using var dz1 = torch.rand(64, K * 300);
    void Time(string name, double flop, Action f)
    {
        for (int i = 0; i < 5; i++) f();
        var sw = Stopwatch.StartNew(); int reps = 50;
        for (int i = 0; i < reps; i++) { using var s = torch.NewDisposeScope(); f(); }
        double sec = sw.Elapsed.TotalSeconds / reps;
        Console.WriteLine($"{name,-40} {sec * 1e3,8:F3} ms  {flop / sec / 1e9,6:F1} GFLOP/s");
    }
    Time("fwd1 addmm [64,784]x[784,K300]", 2.0 * 64 * 784 * 300 * K, () => torch.addmm(w1.narrow(1, 0, 1).view(-1), x, w1.t(), 1, 1));
    Time("fwd1 mm x.w1t", 2.0 * 64 * 784 * 300 * K, () => x.mm(w1.t()));
    Time("gW1 addmm_ [K300,64]x[64,784] beta0", 2.0 * 64 * 784 * 300 * K, () => g1.addmm_(dz1.t(), x, 0, 1));
    Time("fwd2 bmm [K,64,300]x[K,300,100]", 2.0 * 64 * 300 * 100 * K, () => torch.bmm(a1, w2.transpose(1, 2)));
    Time("gW2 bmm [K,100,64]x[K,64,300]", 2.0 * 64 * 300 * 100 * K, () => torch.bmm(dz2.transpose(1, 2), a1));
    Time("dA1 bmm [K,64,100]x[K,100,300]", 2.0 * 64 * 300 * 100 * K, () => torch.bmm(dz2, w2));
    return;
}

if (argv.Contains("--zero"))
{
    // The trainer's own cost for empty (0-epoch) trials on a tiny dataset, as bench/overhead runs them.
    var images = Opt("--images", ""); var labels = Opt("--labels", "");
    var tiny = new TrialSettings { Params = new() { Epochs = 0 }, Dataset = new DatasetRef { Images = images, Labels = labels } };
    foreach (int k in widths)
    {
        var group = Enumerable.Range(0, k).Select(i => new FusedTrial(tiny with { Params = tiny.Params with { PruneRate = 0.1 + 0.01 * i } })).ToArray();
        FusedTraining.Run(group);
        var sw = Stopwatch.StartNew();
        for (int r = 0; r < 100; r++) FusedTraining.Run(group);
        Console.WriteLine($"K={k}: {sw.Elapsed.TotalMilliseconds / 100:F2} ms per group, {sw.Elapsed.TotalMilliseconds / 100 / k:F2} ms per trial");
    }
    return;
}

if (argv.Contains("--prune"))
{
    {
        using var keys = torch.randn(117600);
        void T(string name, Action f) { for (int i = 0; i < 3; i++) f(); var sw = Stopwatch.StartNew(); for (int i = 0; i < 50; i++) { using var sc = torch.NewDisposeScope(); f(); } Console.WriteLine($"{name}: {sw.Elapsed.TotalMilliseconds / 50:F3} ms"); }
        T("topk 11760 of 117600 unsorted", () => keys.topk(11760, largest: true, sorted: false));
        T("topk smallest 11760", () => keys.topk(11760, largest: false, sorted: false));
        T("kthvalue", () => keys.kthvalue(117600 - 11760, 0));
        T("sort", () => keys.sort());
        using var m = torch.ones(235200);
        T("nonzero", () => m.nonzero());
        T("count_nonzero", () => m.count_nonzero());
        using var g = new Generator(3, torch.CPU);
        T("rand 117600", () => torch.rand(new long[] { 117600 }, generator: g));
        T("log x2", () => keys.abs().log_().neg_().log_());
    }
    // One pruning event on a first-layer-sized tensor, from 50 % to 55 % sparsity, stochastic and magnitude.
    foreach (var method in new[] { "stochastic", "magnitude" })
    {
        var pruner = Sweep.Training.Pruning.Pruner.Create(method, 0.5);
        using var g = new Generator(1, torch.CPU);
        double total = 0; int reps = 50;
        for (int r = 0; r < reps + 3; r++)
        {
            using var scope = torch.NewDisposeScope();
            var w = torch.randn(784, 300);
            var m = torch.ones(784, 300);
            pruner.PruneToSparsity(w, m, 0.5, g);
            var sw = Stopwatch.StartNew();
            pruner.PruneToSparsity(w, m, 0.55, g);
            if (r >= 3) total += sw.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine($"{method}: {total / reps:F2} ms per event (235,200 weights, 50 % -> 55 %)");
    }
    return;
}

if (argv.Contains("--kernels"))
{
    // The first layer's kernels alone, dense against alive-structure, at several alive fractions: ms per trial-step
    // over real batches of the built-in data (the weights pruned at random to the fraction).
    KernelBench.Run(Opt("--alive", "1,0.5,0.3,0.2,0.1,0.05,0.02").Split(',')
        .Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
    return;
}

if (argv.Contains("--rates"))
{
    // Cost against weight sparsity: per prune rate, a fused group of 4 trials (l1/l2 × λ 1e-5/1e-4) at that rate, 3 runs.
    var rates = Opt("--rates", "0.5,0.7,0.9,0.98").Split(',')
        .Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture));
    var warm = new TrialSettings { Params = new() { Regularizer = "l1", Lambda = 1e-4, PruneRate = 0.5, Epochs = 1 } };
    FusedTraining.Run([new FusedTrial(warm)]);   // warm-up: data, libtorch
    foreach (double rate in rates)
    {
        var group = (from reg in new[] { "l1", "l2" } from lam in new[] { 1e-5, 1e-4 }
                     select new FusedTrial(new TrialSettings
                     {
                         Params = new() { Regularizer = reg, Lambda = lam, PruneRate = rate, Epochs = epochs },
                     })).ToArray();
        var times = new List<double>();
        for (int run = 0; run < 3; run++)
        {
            var sw = Stopwatch.StartNew();
            FusedTraining.Run(group, new TrainingOptions(Threads: threads), tensorOps: false, sparse);
            times.Add(sw.Elapsed.TotalSeconds / group.Length);
        }
        times.Sort();
        Console.WriteLine(
            $"rate {rate:F2}: {times[1]:F3} s/trial (median of 3; min {times[0]:F3}, max {times[2]:F3}), K=4, {epochs} epochs");
    }
    return;
}

// The reference grid's 32 settings (l1/l2 × 4 λ × 4 rates), seed 0, 5 epochs.
var grid = (from reg in new[] { "l1", "l2" } from lam in new[] { 1e-5, 1e-4, 1e-3, 1e-2 } from rate in new[] { 0.5, 0.7, 0.8, 0.9 }
            select new TrialSettings { Params = new() { Regularizer = reg, Lambda = lam, PruneRate = rate, Epochs = epochs } }).ToArray();
FusedTraining.Run([new FusedTrial(grid[0] with { Params = grid[0].Params with { Epochs = 1 } })]);   // warm-up: data, libtorch
foreach (int k in widths)
{
    var group = grid.Take(k).Select(s => new FusedTrial(s)).ToArray();
    var sw = Stopwatch.StartNew();
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var outcomes = FusedTraining.Run(group, new TrainingOptions(Threads: threads), tensorOps: false, sparse);
    double s = sw.Elapsed.TotalSeconds;
    double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
    Console.WriteLine($"cpu {cpu / k:F3} s/trial");
    var acc = string.Join(" ", outcomes.Take(4).Select(o => o.Report is { } r ? $"{r.Accuracy:F4}/{r.NodeSparsity:F4}" : o.Error!.Message));
    Console.WriteLine($"K={k,3}: {s,7:F2} s, {s / k,6:F3} s/trial; first trials (acc/node sp): {acc}");
}
