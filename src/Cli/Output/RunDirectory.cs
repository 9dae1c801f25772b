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

    /// <summary>
    /// The trials recorded so far (unparsable lines, such as one cut short by a kill, are skipped); with
    /// <paramref name="forPlot"/>, only completed ones and without their epoch and layer records (what front.svg draws).
    /// </summary>
    public IReadOnlyList<TrialResult> ReadTrials(bool forPlot = false)
    {
        if (!File.Exists(TrialsPath)) return [];
        var results = new List<TrialResult>();
        foreach (var line in File.ReadLines(TrialsPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonSerializer.Deserialize<TrialResult>(line, SweepJson.Options) is not { } r) continue;
                if (!forPlot) results.Add(r);
                else if (r.Status == TrialStatus.Completed) results.Add(ForPlot(r));
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

    /// <summary>
    /// Writes trials.jsonl from a stream of results (replacing the file atomically when the stream ends) and returns how
    /// many it wrote and the completed ones as front.svg draws them (without epochs and layers).
    /// </summary>
    public async Task<(int Count, IReadOnlyList<TrialResult> Drawn)> WriteTrialsAsync(IAsyncEnumerable<TrialResult> results)
    {
        string temp = TrialsPath + ".tmp";
        var drawn = new List<TrialResult>();
        int count = 0;
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        await using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
        {
            await foreach (var r in results)
            {
                await writer.WriteAsync(JsonSerializer.Serialize(r, SweepJson.Options));
                await writer.WriteAsync('\n');
                count++;
                if (r.Status == TrialStatus.Completed) drawn.Add(ForPlot(r));
            }
            await writer.FlushAsync();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, TrialsPath, overwrite: true);
        return (count, drawn);
    }

    private static TrialResult ForPlot(TrialResult r) => r with { Epochs = [], Layers = [] };

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
        // Streamed: a front of tied trials can hold a whole sweep.
        string temp = FrontPath + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            JsonSerializer.Serialize(stream, front, SweepJson.Indented);
            stream.WriteByte((byte)'\n');
        }
        File.Move(temp, FrontPath, overwrite: true);
        WriteAtomically(PlotPath, FrontPlot.Svg(title, trials));
    }

    private static void WriteAtomically(string path, string text)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
