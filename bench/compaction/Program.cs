using System.Globalization;
using Sweep.Training.Compaction;
using Sweep.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

// bench/compaction/run MODEL.pt [--dead F] [--only K | --up-to K] [--threads N] [--passes N]
// (--only K / --up-to K: kill in hidden layer K only / in layers 0 … K only, to find which layer a difference comes from)
// Loads a saved trial model, kills the fraction F (default 0.5) of the nodes of every hidden layer whose incoming weights
// have the smallest L1 norm (zeroes their kernels or rows: dead by their inputs, so batch norm leaves them a constant
// output and compaction must carry it), saves that model next to the original as MODEL.deadF.pt, compacts it with
// `sweep compact`'s code and prints widths, parameters, agreement and CPU latency before and after. F = 0 measures the
// model as trained. Accuracy after killing nodes is whatever it is (nothing is fine-tuned): only speed is measured.
var c = CultureInfo.InvariantCulture;
if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: bench/compaction/run MODEL.pt [--dead F] [--threads N] [--passes N]");
    return 2;
}
string model = Path.GetFullPath(args[0]);
double dead = Option("--dead", 0.5);
int threads = (int)Option("--threads", 1), passes = (int)Option("--passes", 5);
int only = (int)Option("--only", -1), upTo = (int)Option("--up-to", 99);
torch.set_num_threads(threads);

string killed = Path.Combine(Path.GetDirectoryName(model)!,
    Path.GetFileNameWithoutExtension(model) + string.Create(c, $".dead{dead * 100:0}.pt"));
using (var saved = ModelFile.Load(model))
{
    using (torch.no_grad())
    {
        var layers = saved.Network.Layers;
        for (int i = 0; i < layers.Count - 1; i++)
        {
            var w = layers[i].Weight;
            long units = w.shape[0], kill = (long)Math.Round(dead * units);
            if (kill == 0 || (only >= 0 && i != only) || i > upTo) continue;
            using var norms = w.reshape(units, -1).abs().sum(1);
            using var order = norms.argsort();
            foreach (long j in order.narrow(0, 0, kill).data<long>().ToArray()) w[j].zero_();
        }
    }
    ModelFile.Save(saved.Network, saved.Description, killed);
}
var r = CompactionReport.CompactFile(killed, passes: passes);
double largest;
using (var saved = ModelFile.Load(killed))
using (torch.no_grad())
{
    saved.Network.eval();
    var source = saved.Description.Settings?.Dataset ?? Sweep.Core.Models.DatasetRef.Mnist10k;
    var data = Sweep.Training.Data.Dataset.Load(source).On(CPU);
    using var logits = saved.Network.forward(data.TestX);
    largest = logits.abs().max().item<float>();
}
var (before, after) = (r.LatencyBefore, r.LatencyAfter);
Console.WriteLine(string.Create(c, $"{r.Model}: {dead:P0} of every hidden layer's nodes killed ({Path.GetFileName(killed)})"));
Console.WriteLine($"  widths        {string.Join(',', r.WidthsBefore)}");
Console.WriteLine($"  compacted     {string.Join(',', r.WidthsAfter)}");
long p0 = r.ParametersBefore.Parameters, p1 = r.ParametersAfter.Parameters;
Console.WriteLine(string.Create(c, $"  parameters    {p0:N0} → {p1:N0} ({(double)p1 / p0:0.000}×)"));
Console.WriteLine(string.Create(c, $"  accuracy      {r.AccuracyBefore:0.0000} → {r.AccuracyAfter:0.0000}, "
    + $"max |Δlogit| {r.MaxLogitDifference:0.0e+00} (largest |logit| {largest:0.0e+00})"));
Console.WriteLine(string.Create(c, $"  batch 1       {before.Batch1Milliseconds:0.000} ms → {after.Batch1Milliseconds:0.000} ms "
    + $"({before.Batch1Milliseconds / after.Batch1Milliseconds:0.00}× faster), {threads} thread(s)"));
Console.WriteLine(string.Create(c, $"  batch {r.TestImages,-7} {before.FullBatchMilliseconds:0.0} ms → "
    + $"{after.FullBatchMilliseconds:0.0} ms "
    + $"({before.FullBatchMilliseconds / after.FullBatchMilliseconds:0.00}× faster)"));
return 0;

double Option(string name, double fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], c) : fallback;
}
