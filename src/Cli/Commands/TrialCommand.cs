using Sweep.Core;
using System.Text.Json;
using Sweep.Grains;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Training;

namespace Sweep.Cli.Commands;

/// <summary>`sweep trial …`: one trial, in-process, no cluster.</summary>
public static class TrialCommand
{
    public const string Help = """
        usage: sweep trial [--model mlp|lenet5] [--regularizer none|l1|l2|l1l2] [--lambda X] [--prune-rate R]
                           [--prune-method stochastic|magnitude|none] [--temperature T] [--interval N] [--ramp-fraction F]
                           [--epochs N] [--batch-size N] [--learning-rate X] [--momentum X] [--seed N]
                           [--dataset mnist10k | --images FILE --labels FILE] [--train-limit N]
                           [--device auto|cpu|cuda|cuda:N] [--threads N] [--json]
        Trains one trial in this process and prints its result (--json: one result object).
        Defaults: mlp, l2, lambda 1e-4, prune rate 0.9, stochastic, temperature 0.5, interval 50, ramp 0.7,
                  5 epochs, batch 64, lr 0.05, momentum 0.9, seed 0, mnist10k, device auto, threads: libtorch's default.
        """;

    private static readonly string[] Values =
        [.. TrialParameterTable.All.Select(d => d.Flag), "dataset", "images", "labels", "train-limit", "device", "threads"];

    public static int Run(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var a = new CommandArgs("trial", argv, Values, ["json"]);
        a.NoMorePositional(0);
        var p = new TrialParameters();
        foreach (var parameter in TrialParameterTable.All)
        {
            if (!a.Has(parameter.Flag)) continue;
            p = parameter.Kind switch
            {
                ParameterKind.Text => parameter.With(p, a.String(parameter.Flag)!),
                ParameterKind.Real => parameter.With(p, a.Double(parameter.Flag, 0)),
                // Integer fields of int width take int flags (out of range: a usage error, not an overflow).
                _ => parameter.With(p, parameter.Domain!.Max <= int.MaxValue ? a.Int(parameter.Flag, 0) : a.Long(parameter.Flag, 0)),
            };
        }
        var dataset = DatasetFrom(a);
        int? trainLimit = a.Has("train-limit") ? a.Int("train-limit", 0) : null;
        int threads = a.Int("threads", 0);
        if (threads < 0) throw new UsageException($"--threads: must be ≥ 0, got {threads}");

        var settings = new TrialSettings(p, dataset, trainLimit);
        bool json = a.Has("json");
        TrialReport report;
        try
        {
            report = TrialRunner.Run(settings, new TrainingOptions(a.String("device"), threads),
                json ? null : e => Console.WriteLine(
                    $"epoch {e.Epoch,3}  loss {e.Loss:F4}  accuracy {e.Accuracy:F4}  weight sparsity {e.WeightSparsity:F4}  "
                    + $"node sparsity {e.NodeSparsity:F4}  {e.Seconds:F2} s"),
                cancellationToken);
        }
        catch (InvalidSettingException e)
        {
            // Settings are validated before any training starts: name the flag that carries the field.
            string flag = TrialParameterTable.Find(e.Field)?.Flag ?? Kebab(e.Field);
            throw new UsageException($"--{flag}: {e.Message[(e.Field.Length + 2)..]}");
        }
        var result = TrialMapping.Completed($"trial-{Guid.NewGuid():N}"[..14], "", p, report, Environment.MachineName, 1);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, SweepJson.Options));
            return 0;
        }
        Console.WriteLine(
            $"accuracy {result.Accuracy:F4}  weight sparsity {result.WeightSparsity:F4}  node sparsity {result.NodeSparsity:F4}  "
            + $"({result.Epochs.Count} epochs, {result.Seconds:F2} s on {result.Device})");
        foreach (var l in result.Layers)
            Console.WriteLine($"  {l.Name,-6} {l.Weights,8} weights {l.ZeroWeights,8} zero   {l.Nodes,4} nodes {l.DeadNodes,4} dead");
        return 0;
    }

    private static DatasetRef DatasetFrom(CommandArgs a)
    {
        string? images = a.String("images"), labels = a.String("labels");
        if (images is null && labels is null) return new DatasetRef { Name = a.String("dataset", "mnist10k") };
        if (a.Has("dataset")) throw new UsageException("--dataset: give either --dataset or --images with --labels, not both");
        if (images is null) throw new UsageException("--images: needed together with --labels");
        if (labels is null) throw new UsageException("--labels: needed together with --images");
        images = Path.GetFullPath(images);
        labels = Path.GetFullPath(labels);
        if (!File.Exists(images)) throw new UsageException($"--images: {images}: file not found");
        if (!File.Exists(labels)) throw new UsageException($"--labels: {labels}: file not found");
        return new DatasetRef { Images = images, Labels = labels };
    }

    /// <summary>pruneRate → prune-rate: the flag that carries a setting.</summary>
    internal static string Kebab(string field) =>
        string.Concat(field.Select((c, i) =>
            char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
