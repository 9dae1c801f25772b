using Sweep.Core;
using System.Text;
using System.Text.Json;
using Sweep.Grains;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Core.Sweeps;

namespace Sweep.Cli.Output;

/// <summary>
/// A sweep's output folder: spec.json, trials.jsonl (one finished trial per line, appended as they finish),
/// front.json and front.svg, models/ when the spec saves models, and earlier/ for results the current plan does not use
/// (docs/interface.md, "Resuming a run"). Whole files are replaced atomically; no result is ever deleted.
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
    /// <summary>Results set aside: earlier/DATA_KEY/trials.jsonl (+ the spec.json they came with), earlier/rejected.jsonl.</summary>
    public string EarlierPath => System.IO.Path.Combine(Path, "earlier");
    public string RejectedPath => System.IO.Path.Combine(EarlierPath, "rejected.jsonl");
    /// <summary>The key of the data trials.jsonl holds results of (<see cref="DataKey"/>).</summary>
    public string DataKeyPath => System.IO.Path.Combine(Path, ".data-key");

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

    /// <summary>
    /// Where the embedded run stores a sweep's results: the run's own sweep in trials.jsonl, any other (one submitted
    /// through `--ui`'s API) in a folder of its own, api-sweeps/ID/trials.jsonl, never mixed with the run's.
    /// </summary>
    public string ResultsFile(string sweepId, string runSweepId) =>
        sweepId == runSweepId ? TrialsPath : System.IO.Path.Combine(Path, "api-sweeps", SafeName(sweepId), "trials.jsonl");

    // Letters, digits, '.', '_' and '-' as they are, anything else as '_'; never "." or "..".
    private static string SafeName(string id)
    {
        var safe = new string(id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray());
        return safe.Length == 0 || safe.All(c => c == '.') ? "_" + safe : safe;
    }

    /// <summary>The folder's lines of results for one data key: trials.jsonl for the current one, else the set-aside file.</summary>
    private string EarlierTrials(string key) => System.IO.Path.Combine(EarlierPath, key, "trials.jsonl");

    private static List<StoredLine> ReadLines(string path)
    {
        var lines = new List<StoredLine>();
        if (!File.Exists(path)) return lines;
        int number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(text)) lines.Add(StoredLine.Parse(number, text));
        }
        return lines;
    }

    /// <summary>
    /// Prepares the folder for <paramref name="spec"/>'s run: keeps in trials.jsonl the completed, valid results of its
    /// planned trials (from trials.jsonl, or set aside earlier for the same data), sets every other result aside under
    /// earlier/, and says so on <paramref name="log"/>, one line each. Writes spec.json. Returns the decision and the
    /// sweep id the run goes on with (the kept results' own, or a new one).
    /// </summary>
    public (RunResume Resume, string SweepId) Resume(SweepSpec spec, IReadOnlyList<TrialPlan> plans, string newSweepId,
        string? specDirectory, TextWriter log)
    {
        string key = DataKey(spec);
        var current = ReadLines(TrialsPath);
        if (current.Count > 0 && EarlierKey(specDirectory) is { } other && other != key)
        {
            // Trained on another dataset or train limit: kept whole beside the spec that trained them, and trials.jsonl
            // emptied before spec.json and .data-key say the new data (so no kill leaves old lines under a new key).
            string archive = EarlierTrials(other);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(archive)!);
            if (File.Exists(SpecPath))
                File.Copy(SpecPath, System.IO.Path.Combine(System.IO.Path.GetDirectoryName(archive)!, "spec.json"), overwrite: true);
            AppendNew(archive, current.Select(l => l.Text));
            WriteAtomically(TrialsPath, "");
            log.WriteLine($"sweep: {SpecPath} names another dataset or train limit: its {current.Count} result(s) are kept in "
                + $"{archive} and not reused");
            current = [];
        }
        WriteSpec(spec);
        WriteAtomically(DataKeyPath, key + "\n");
        string earlierFile = EarlierTrials(key);
        var earlier = ReadLines(earlierFile);
        bool Usable(TrialResult r) => !spec.SaveModels || (r.ModelPath is { } model && File.Exists(model));
        var resume = RunResume.Decide(plans, TrialsPath, current, earlier, Usable);
        string sweepId = resume.Kept.Count > 0 ? resume.Kept[0].SweepId : newSweepId;
        if (sweepId.Length == 0) sweepId = newSweepId;

        // Set aside first, then rewrite trials.jsonl, then take returned lines out of the set-aside file: a kill between
        // any two leaves a copy, never a loss.
        if (resume.SetAside.Count > 0)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(earlierFile)!);
            WriteAtomically(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(earlierFile)!, "spec.json"), SpecText(spec));
            AppendNew(earlierFile, resume.SetAside.Select(l => l.Text));
            log.WriteLine($"sweep: {Path}: {resume.SetAside.Count} earlier result(s) this plan does not use are kept in {earlierFile}");
        }
        if (resume.Rejected.Count > 0)
        {
            Directory.CreateDirectory(EarlierPath);
            AppendNew(RejectedPath, resume.Rejected.Select(r => r.Line.Text));
            foreach (var r in resume.Rejected.Take(10))
                log.WriteLine(r.Line.Result is null
                    ? $"sweep: {r.File} line {r.Line.Number} is not a trial result (the line is kept in {RejectedPath})"
                    : $"sweep: {r.File} line {r.Line.Number}: {r.Reason}; its trial runs again (the line is kept in {RejectedPath})");
            if (resume.Rejected.Count > 10) log.WriteLine($"sweep: … and {resume.Rejected.Count - 10} more such line(s)");
        }
        WriteAtomically(TrialsPath, Lines(resume.Kept.Select(r => r with { SweepId = sweepId })));
        if (resume.Returned.Count > 0)
        {
            // Read again: the lines set aside above are in the file now and stay.
            var back = resume.Returned.Select(l => l.Text).ToHashSet(StringComparer.Ordinal);
            WriteAtomically(earlierFile, Lines(ReadLines(earlierFile).Where(l => !back.Contains(l.Text)).Select(l => l.Text)));
        }
        return (resume, sweepId);
    }

    /// <summary>The data a spec's trials train on (dataset and train limit) as a short key; trial ids do not cover it.</summary>
    public static string DataKey(SweepSpec spec) =>
        Hash(JsonSerializer.Serialize(new { spec.Dataset, spec.TrainLimit }, SweepJson.Options));

    /// <summary>The key of the data trials.jsonl was trained on: .data-key, or (a folder of an earlier release) spec.json's.</summary>
    private string? EarlierKey(string? specDirectory)
    {
        if (File.Exists(DataKeyPath)) return File.ReadAllText(DataKeyPath).Trim();
        if (!File.Exists(SpecPath)) return null;
        string specText = File.ReadAllText(SpecPath);
        try { return DataKey(SpecParser.Parse(specText, specDirectory)); }
        catch (SpecException) { return "spec-" + Hash(specText); }
        catch (JsonException) { return "spec-" + Hash(specText); }
    }

    private static string Hash(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];

    private static string Lines(IEnumerable<TrialResult> results) =>
        Lines(results.Select(r => JsonSerializer.Serialize(r, SweepJson.Options)));

    private static string Lines(IEnumerable<string> texts)
    {
        var text = new StringBuilder();
        foreach (var line in texts) text.Append(line).Append('\n');
        return text.ToString();
    }

    /// <summary>Appends the lines the file does not hold yet, and flushes them to disk.</summary>
    private static void AppendNew(string path, IEnumerable<string> texts)
    {
        var have = File.Exists(path) ? File.ReadLines(path).ToHashSet(StringComparer.Ordinal) : [];
        var fresh = texts.Where(have.Add).ToList();
        if (fresh.Count == 0) return;
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        if (stream.Position > 0)
        {
            // A last line without its newline (a write cut short) must not run into the first new one.
            using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            read.Position = read.Length - 1;
            if (read.ReadByte() != '\n') stream.WriteByte((byte)'\n');
        }
        stream.Write(Encoding.UTF8.GetBytes(Lines(fresh)));
        stream.Flush(flushToDisk: true);
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

    public void WriteSpec(SweepSpec spec) => WriteAtomically(SpecPath, SpecText(spec));

    private static string SpecText(SweepSpec spec) => spec.Source ?? JsonSerializer.Serialize(spec, SweepJson.Indented);

    /// <summary>front.json and its picture front.svg, from a sweep's trials and fronts.</summary>
    public void WriteFronts(string title, IReadOnlyList<TrialResult> trials, FrontReport front)
    {
        // Streamed: a front of tied trials can hold a whole sweep.
        Replace(FrontPath, stream =>
        {
            JsonSerializer.Serialize(stream, front, SweepJson.Indented);
            stream.WriteByte((byte)'\n');
        });
        WriteAtomically(PlotPath, FrontPlot.Svg(title, trials));
    }

    private static void WriteAtomically(string path, string text) =>
        Replace(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(text)));

    /// <summary>Replaces a file whole: written to a temporary file, flushed to disk, then renamed over it.</summary>
    private static void Replace(string path, Action<Stream> write)
    {
        string temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e)
        {
            File.Delete(temp);   // a full disk leaves no half-written file behind
            if (e is IOException) throw new IOException(e.Message.Replace(temp, path, StringComparison.Ordinal), e);
            throw;
        }
    }
}
