using Sweep.Core;
using System.Text;
using System.Text.Json;
using Sweep.Grains;
using Sweep.Core.Models;

namespace Sweep.Cli.Output;

/// <summary>
/// A sweep's output folder: spec.json, trials.jsonl (one finished trial per line, appended as they finish),
/// front.json and front.svg, and models/ when the spec saves models. Whole files are replaced atomically; a torn last
/// line of trials.jsonl is ignored.
/// </summary>
public sealed class RunDirectory
{
    public string Path { get; }
    public string TrialsPath => System.IO.Path.Combine(Path, "trials.jsonl");
    public string SpecPath => System.IO.Path.Combine(Path, "spec.json");
    public string FrontPath => System.IO.Path.Combine(Path, "front.json");
    public string PlotPath => System.IO.Path.Combine(Path, "front.svg");
    /// <summary>Where the embedded run saves trained models: models/TRIAL_ID.pt, each with its TRIAL_ID.json description.</summary>
    public string ModelsPath => System.IO.Path.Combine(Path, "models");

    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The trials recorded so far (unparsable lines, such as one cut short by a kill, are skipped).</summary>
    public IReadOnlyList<TrialResult> ReadTrials()
    {
        if (!File.Exists(TrialsPath)) return [];
        var results = new List<TrialResult>();
        foreach (var line in File.ReadLines(TrialsPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonSerializer.Deserialize<TrialResult>(line, SweepJson.Options) is { } r) results.Add(r);
            }
            catch (JsonException) { }
        }
        return results;
    }

    /// <summary>Starts trials.jsonl afresh with the trials being kept.</summary>
    public void ResetTrials(IEnumerable<TrialResult> kept)
    {
        var text = new StringBuilder();
        foreach (var r in kept) text.Append(JsonSerializer.Serialize(r, SweepJson.Options)).Append('\n');
        WriteAtomically(TrialsPath, text.ToString());
    }

    /// <summary>Appends finished trials and flushes them to disk, so a kill loses nothing already reported.</summary>
    public void AppendTrials(IEnumerable<TrialResult> results)
    {
        using var stream = new FileStream(TrialsPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false));
        foreach (var r in results) writer.Write(JsonSerializer.Serialize(r, SweepJson.Options) + "\n");
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    public void WriteSpec(SweepSpec spec) =>
        WriteAtomically(SpecPath, spec.Source ?? JsonSerializer.Serialize(spec, SweepJson.Indented));

    /// <summary>front.json and its picture front.svg, from a sweep's trials and fronts.</summary>
    public void WriteFronts(string title, IReadOnlyList<TrialResult> trials, FrontReport front)
    {
        WriteAtomically(FrontPath, JsonSerializer.Serialize(front, SweepJson.Indented) + "\n");
        WriteAtomically(PlotPath, FrontPlot.Svg(title, trials));
    }

    /// <summary>The whole folder of a finished (or exported) sweep: spec.json, trials.jsonl, front.json, front.svg.</summary>
    public void WriteAll(SweepSpec spec, IReadOnlyList<TrialResult> trials, FrontReport front)
    {
        WriteSpec(spec);
        ResetTrials(trials);
        WriteFronts(spec.Name, trials, front);
    }

    private static void WriteAtomically(string path, string text)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
