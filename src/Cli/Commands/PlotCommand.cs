using Sweep.Client;
using System.Text;
using System.Text.Json;
using Sweep.Cli.Output;
using Sweep.Core.Models;
using Sweep.Core.Search;

namespace Sweep.Cli.Commands;

/// <summary>`sweep plot`: draws a sweep's trials (from run folders or a running cluster) as SVG, with the data as JSON.</summary>
public static class PlotCommand
{
    public const string Help = """
        usage: sweep plot DIR|ID [DIR|ID …] --kind dynamics|front|lambda|layers|search [--out FILE] [--data FILE]
                          [--trials ID,ID,…] [--metric nodeSparsity|accuracy|weightSparsity]
                          [--redis HOST:PORT | --gateway PORT[,PORT…]] [--cluster-id ID]
        Draws the completed trials of run folders (runs/<name>/ with trials.jsonl) and/or sweeps of a running cluster
        (by id; the same connection flags as `sweep export`) as an SVG, and writes the data behind it as JSON. Several
        sources are merged (each trial id once), e.g. a study and its baselines.
          dynamics  a per-epoch measure (--metric, default nodeSparsity) against the epoch: one line per configuration
                    (every parameter but the seed), the mean over its seeds; one panel per prune rate; colour by
                    regularizer, lighter for smaller λ, dashed for magnitude pruning. --trials: one line per listed trial.
          front     accuracy against weight sparsity and against node sparsity: every trial a point (coloured by
                    regularizer), the non-dominated trials joined as the Pareto front.
          lambda    final accuracy and node sparsity (or only --metric) against λ on a log axis: one line per
                    regularizer and prune method, the mean over seeds with min–max bars; one panel per prune rate and
                    measure. Unregularized trials (regularizer none) are horizontal baselines.
          layers    the fraction of dead nodes of each hidden layer at the end, one line per configuration.
          search    each source on its own (not merged): the hypervolume of its front and of its node front after each
                    result, against the trial-epochs trained so far; one line per sweep, coloured by strategy (grid
                    grey, random blue, nsga2 red), dashed with early stopping.
        Trials with prune method none appear in every prune-rate panel. --trials ID,ID,… plots only those trials.
        --out: the SVG (default DIR/plot-<kind>.svg for the first folder, ./plot-<kind>.svg for an id; a folder puts
        plot-<kind>.svg in it); --data: the JSON (default: the SVG's path with .json). SVG only, no PNG.
        """;

    private static readonly string[] Kinds = ["dynamics", "front", "lambda", "layers", "search"];

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var a = new CommandArgs("plot", argv, ["kind", "out", "data", "trials", "metric", "gateway", "cluster-id", "redis"]);
        string kindName = a.String("kind") ?? throw new UsageException($"--kind: required ({string.Join(", ", Kinds)})");
        if (!Kinds.Contains(kindName)) throw new UsageException($"--kind: unknown kind '{kindName}' (kinds: {string.Join(", ", Kinds)})");
        var kind = Enum.Parse<PlotKind>(kindName, ignoreCase: true);
        string? metric = a.String("metric");
        if (metric is not null && kind is PlotKind.Front or PlotKind.Layers or PlotKind.Search)
            throw new UsageException("--metric: only for --kind dynamics or lambda (front and layers plots have their own measures)");
        if (metric is not null && !PlotData.Metrics.Contains(metric))
            throw new UsageException($"--metric: unknown metric '{metric}' (metrics: {string.Join(", ", PlotData.Metrics)})");
        string[]? wanted = a.String("trials") is { } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null;
        if (wanted is { Length: 0 }) throw new UsageException("--trials: no trial id given");
        a.RequirePositional(0, "a run folder or a sweep id (sweep plot DIR|ID --kind dynamics|front|lambda|layers|search)");

        // Check every folder before asking a cluster anything, so a typo fails at once.
        var sources = a.Positional.Select(Source.Classify).ToArray();
        var (svgPath, dataPath) = OutputPaths(a, sources[0], kindName);

        var trials = new List<TrialResult>();
        var names = new List<string>();
        var runs = new List<PlotData.SearchRun>();   // --kind search: each source on its own, in stored order
        if (kind == PlotKind.Search && wanted is not null)
            throw new UsageException("--trials: not for --kind search (it plots whole sweeps)");
        foreach (var folder in sources.Where(s => s.IsFolder))
        {
            var read = folder.ReadTrials();
            trials.AddRange(read);
            names.Add(folder.Name);
            if (kind == PlotKind.Search) runs.Add(new PlotData.SearchRun(folder.Name, folder.ReadSpec(), read));
        }
        var ids = sources.Where(s => !s.IsFolder).ToArray();
        if (ids.Length > 0)
        {
            SweepClient client;
            try { client = await SweepClient.ConnectAsync(ClusterCommands.Options(a), cancellationToken); }
            catch (ClusterUnreachableException e)
            {
                throw new ClusterUnreachableException(
                    $"{ids[0].Argument}: not a folder here, so it is read as a sweep id, but {e.Message}", e);
            }
            await using var connected = client;
            foreach (var source in ids)
            {
                SweepSpec spec;
                try { spec = await client.GetSpecAsync(source.Argument, cancellationToken); }
                catch (KeyNotFoundException)
                {
                    throw new UsageException($"{source.Argument}: no sweep with this id in the cluster (see: sweep list)");
                }
                var read = await client.GetResultsAsync(source.Argument, 0, cancellationToken);
                trials.AddRange(read);
                names.Add(spec.Name);
                if (kind == PlotKind.Search) runs.Add(new PlotData.SearchRun(spec.Name, spec, read));
            }
        }
        string where = string.Join(", ", sources.Select(s => s.Describe));
        // A completed result of a trial wins over another source's failed one, as in PlotData.
        var byId = trials.Where(t => t.Status == TrialStatus.Completed).Concat(trials)
            .DistinctBy(t => t.TrialId).ToDictionary(t => t.TrialId, StringComparer.Ordinal);
        if (wanted is not null)
        {
            foreach (var id in wanted)
            {
                if (!byId.TryGetValue(id, out var t)) throw new UsageException($"--trials: no trial '{id}' in {where}");
                if (t.Status != TrialStatus.Completed)
                    throw new UsageException(
                        $"--trials: trial '{id}' is {t.Status.ToString().ToLowerInvariant()}, not completed: nothing to plot");
            }
            var keep = wanted.ToHashSet(StringComparer.Ordinal);
            trials = trials.Where(t => keep.Contains(t.TrialId)).ToList();
        }
        if (!trials.Any(t => t.Status == TrialStatus.Completed)) throw new UsageException($"{where}: no completed trial to plot");

        string title = string.Join(" + ", names.Distinct(StringComparer.Ordinal));
        var figure = kind switch
        {
            PlotKind.Dynamics => PlotData.Dynamics(trials, metric ?? "nodeSparsity", perTrial: wanted is not null, title: title),
            PlotKind.Front => PlotData.Front(trials, title),
            PlotKind.Layers => PlotData.Layers(trials, title),
            PlotKind.Search => PlotData.Search(runs, title),
            _ => PlotData.Lambda(trials, metric is null ? null : [metric], title),
        };
        int series = figure.Panels.Sum(p => p.Series.Count);
        if (series == 0)
        {
            throw new UsageException(kind switch
            {
                PlotKind.Dynamics => $"{where}: no completed trial has per-epoch records",
                PlotKind.Lambda => $"{where}: no completed trial with a regularizer (l1, l2, l1l2) to put on a λ axis",
                PlotKind.Layers => $"{where}: no completed trial has hidden layers to count",
                _ => $"{where}: no completed trial with accuracy and sparsity",
            });
        }

        WriteAtomically(svgPath, PlotSvg.Render(figure));
        WriteAtomically(dataPath, figure.ToJson());
        Console.WriteLine(
            $"wrote {svgPath} and {dataPath}: {series} series in {figure.Panels.Count} panel(s) from {figure.Trials} trial(s)");
        return 0;
    }

    private static (string Svg, string Data) OutputPaths(CommandArgs a, Source first, string kind)
    {
        string fileName = $"plot-{kind}.svg";
        string svg = a.String("out") is { } o
            ? (Directory.Exists(o) ? Path.Combine(o, fileName) : o)
            : first.IsFolder ? Path.Combine(first.Argument, fileName) : fileName;
        svg = Path.GetFullPath(svg);
        string? folder = Path.GetDirectoryName(svg);
        if (folder is not null && !Directory.Exists(folder)) throw new UsageException($"--out: {folder}: no such folder");
        string data = Path.GetFullPath(a.String("data") ?? Path.ChangeExtension(svg, ".json"));
        if (string.Equals(svg, data, StringComparison.Ordinal))
            throw new UsageException($"--data: {data} is also the SVG's path; give the data another file");
        string? dataFolder = Path.GetDirectoryName(data);
        if (dataFolder is not null && !Directory.Exists(dataFolder)) throw new UsageException($"--data: {dataFolder}: no such folder");
        return (svg, data);
    }

    private static void WriteAtomically(string path, string text)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// A positional argument: a run folder when it is a directory or looks like a path (sweep ids hold no '/'),
    /// otherwise a sweep id. Folders are checked here: they must exist and hold trials.jsonl.
    /// </summary>
    private sealed record Source(string Argument, bool IsFolder)
    {
        public string Describe => IsFolder ? Argument : $"sweep {Argument}";

        /// <summary>The sweep's name from the folder's spec.json, or the folder's name when it has none.</summary>
        public string Name
        {
            get
            {
                string spec = Path.Combine(Argument, "spec.json");
                try
                {
                    using var doc = JsonDocument.Parse(File.ReadAllText(spec));
                    if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("name", out var n)
                        && n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } name)
                        return name;
                }
                catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { }
                return Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(Argument)));
            }
        }

        public static Source Classify(string argument)
        {
            if (argument.Length == 0) throw new UsageException("an empty argument is neither a run folder nor a sweep id");
            bool looksLikePath = argument.Contains('/') || argument.Contains(Path.DirectorySeparatorChar) || argument is "." or "..";
            if (!Directory.Exists(argument))
            {
                if (File.Exists(argument))
                    throw new UsageException($"{argument}: is a file, not a run folder (give the folder that holds trials.jsonl)");
                if (looksLikePath) throw new UsageException($"{argument}: no such folder");
                return new Source(argument, false);
            }
            string trials = Path.Combine(argument, "trials.jsonl");
            if (!File.Exists(trials)) throw new UsageException($"{trials}: not found (is {argument} a run folder?)");
            return new Source(argument, true);
        }

        public IReadOnlyList<TrialResult> ReadTrials() => new RunDirectory(Argument).ReadTrials();

        /// <summary>The folder's spec.json (what --kind search needs: strategy, objectives, reference point).</summary>
        public SweepSpec ReadSpec()
        {
            string path = Path.Combine(Argument, "spec.json");
            if (!File.Exists(path)) throw new UsageException($"{path}: not found (--kind search needs each run's spec)");
            try { return SpecParser.Load(path); }
            catch (SpecException e) { throw new UsageException($"{path}: {e.Message}"); }
        }
    }
}
