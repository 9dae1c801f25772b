using Sweep.Training.Compaction;
using Sweep.Core;
using System.Text.Json;
using Sweep.Cli.Output;
using Sweep.Grains;
using TorchSharp;

namespace Sweep.Cli.Commands;

/// <summary>`sweep compact MODEL.pt | RUNDIR --trial ID`: a saved trial model without its dead nodes, compared with the original.</summary>
public static class CompactCommand
{
    public const string Help = """
        usage: sweep compact MODEL.pt [--out FILE] [--json] [--passes N] [--threads N]
               sweep compact RUNDIR --trial ID [--out FILE] [--json] [--passes N] [--threads N]
        Makes a trained model smaller without changing its outputs. MODEL.pt is a model saved by a sweep whose spec has
        "saveModels": true (RUNDIR/models/TRIAL_ID.pt with its description TRIAL_ID.json), or name the trial of a run
        folder with --trial. Its dead hidden nodes (all incoming or all outgoing weights zero) are removed; a node dead
        by its inputs outputs the constant relu(bias), which is added to the next layer's bias first. The smaller dense
        network is saved to FILE (default MODEL.compact.pt next to the model, described by FILE's .json).
        Both networks then run on the test split of the trial's dataset; the table shows layer sizes, parameters
        (weights + biases, and nonzero weights), accuracy, the largest |logit difference|, and CPU latency: the median
        single image at batch 1 and the median pass over the whole test split (--passes N of them, default 10).
        --threads N: libtorch threads for the timing (default: libtorch's, all cores). --json: the report as JSON.
        """;

    public static int Run(IReadOnlyList<string> argv)
    {
        var a = new CommandArgs("compact", argv, ["out", "trial", "passes", "threads"], ["json"]);
        string target = a.RequirePositional(0, "a model file or a run folder (sweep compact MODEL.pt, or RUNDIR --trial ID)");
        a.NoMorePositional(1);
        int passes = a.Int("passes", 10);
        if (passes < 1) throw new UsageException($"--passes: must be ≥ 1, got {passes}");
        int threads = a.Int("threads", 0);
        if (threads < 0) throw new UsageException($"--threads: must be ≥ 0, got {threads}");

        string model = ModelOf(target, a.String("trial"));
        string output = CompactionReport.DefaultOutputPath(model);
        if (a.String("out") is { } outArg)
        {
            if (string.IsNullOrWhiteSpace(outArg)) throw new UsageException("--out: needs a file name");
            output = Path.GetFullPath(outArg);
            if (Directory.Exists(output)) throw new UsageException($"--out: {output}: is a directory, give a file name");
            if (output.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"--out: {output}: a model file cannot end in .json (its description takes that name)");
            if (output == model) throw new UsageException($"--out: {output}: is the model being compacted");
        }
        if (threads > 0) torch.set_num_threads(threads);

        var report = CompactionReport.CompactFile(model, output, passes);
        Console.Write(a.Has("json") ? JsonSerializer.Serialize(report, SweepJson.Indented) + "\n" : CompactionTable.Render(report));
        return 0;
    }

    /// <summary>The model file to compact: the argument itself, or the model of --trial ID in a run folder.</summary>
    private static string ModelOf(string target, string? trial)
    {
        string full;
        try { full = Path.GetFullPath(target); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"{target}: invalid path");
        }
        if (!Directory.Exists(full))
        {
            if (trial is not null)
                throw new UsageException(File.Exists(full)
                    ? $"--trial: only with a run folder; {full} is a file"
                    : $"{full}: run folder not found");
            return full;   // loading names the file if it is missing or not a model
        }
        if (trial is null) throw new UsageException($"{full}: is a folder; give a model file, or a run folder with --trial ID");
        var run = new RunDirectory(full);
        if (!File.Exists(run.TrialsPath)) throw new UsageException($"{full}: not a run folder (no trials.jsonl)");
        var result = run.ReadTrials().LastOrDefault(r => r.TrialId == trial)
            ?? throw new UsageException($"--trial: {trial}: no such trial in {run.TrialsPath}");
        if (result.ModelPath is { } saved && File.Exists(saved)) return saved;
        // The run folder may have moved since the model was saved.
        string local = Path.Combine(run.ModelsPath, trial + ".pt");
        if (File.Exists(local)) return local;
        if (result.ModelPath is null)
            throw new UsageException(
                $"--trial: {trial}: no model was saved ({result.ModelError ?? "its spec did not set \"saveModels\": true"})");
        throw new UsageException($"--trial: {trial}: its model {result.ModelPath} is gone (nor is it at {local})");
    }
}
