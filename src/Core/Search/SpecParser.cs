using Sweep.Core;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sweep.Core.Models;

namespace Sweep.Core.Search;

/// <summary>
/// Reads a sweep spec (the JSON format of docs/interface.md) into a validated <see cref="SweepSpec"/>.
/// The document is walked by hand so that every problem is reported as a <see cref="SpecException"/>
/// naming its JSON path: unknown keys (typos), wrong types, out-of-range values, missing dataset files.
/// </summary>
public static partial class SpecParser
{
    /// <summary>The largest spec accepted, in bytes of UTF-8.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The most trials (configurations × seeds) one sweep may expand to.</summary>
    public const int MaxTrials = 100_000;

    /// <summary>The most attempts per trial a spec may ask for.</summary>
    public const int MaxAttemptsLimit = 20;

    /// <summary>The objectives a front may be built from.</summary>
    public static IReadOnlyList<string> KnownObjectives => Vocabularies.Objectives.Names;

    /// <summary>The search strategies.</summary>
    public static IReadOnlyList<string> KnownStrategies => Vocabularies.Strategies.Names;

    private static readonly string[] TopKeys =
        ["name", "dataset", "model", "training", "pruning", "regularizer", "lambda", "pruneRate",
         "search", "seeds", "objectives", "referencePoint", "maxAttempts", "saveModels",
         "maxTrialSeconds", "trialEpochBudget", "maxSlotShare", "earlyStopping"];
    private static readonly string[] EarlyStoppingKeys = ["method", "rungs", "keep"];
    /// <summary>Early stopping methods.</summary>
    public static IReadOnlyList<string> EarlyStoppingMethods { get; } = ["pareto-asha"];
    private static readonly string[] BaseSections = ["", "training", "pruning"];
    private static readonly string[] TrainingKeys = [.. KeysIn("training"), "trainLimit"];
    private static readonly string[] PruningKeys = KeysIn("pruning");
    private static readonly NumericDomain TrainLimitDomain = NumericDomain.Int(1, int.MaxValue);
    private static readonly string[] DatasetKeys = ["images", "labels", "cifar10", "cifar100", "test", "normalize", "augment"];
    private static readonly string[] SearchKeys = ["strategy", "space", "trials", "seed", "population"];
    private static readonly string[] RangeKinds = ["uniform", "logUniform", "int"];

    private static string[] KeysIn(string section) =>
        TrialParameterTable.All.Where(d => d.Section == section).Select(d => d.Key!).ToArray();

    // Integers arriving as doubles (1e3) are exact up to 2^53; beyond that they are not integers we can trust.
    private const double MaxExactInteger = 9_007_199_254_740_992d;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex NamePattern();

    /// <summary>
    /// Reads and parses the spec file at <paramref name="path"/>; relative dataset paths resolve against the file's folder.
    /// </summary>
    /// <exception cref="SpecException">The file is missing, unreadable, too large, or not a valid spec.</exception>
    public static SweepSpec Load(string path)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new SpecException("spec", $"invalid path '{Shorten(path)}'", e);
        }
        if (Directory.Exists(full)) throw new SpecException("spec", $"{full}: is a directory, not a spec file");
        if (!File.Exists(full)) throw new SpecException("spec", $"{full}: file not found");

        byte[] bytes;
        try
        {
            // Check the size before reading, so a huge file is never loaded into memory.
            long length = new FileInfo(full).Length;
            if (length > MaxBytes) throw TooLarge(length);
            bytes = File.ReadAllBytes(full);
        }
        catch (UnauthorizedAccessException e) { throw new SpecException("spec", $"{full}: cannot read (permission denied)", e); }
        catch (IOException e) { throw new SpecException("spec", $"{full}: cannot read ({OneLine(e.Message)})", e); }
        if (bytes.Length > MaxBytes) throw TooLarge(bytes.Length);
        // The text as given travels with the spec (written back as spec.json), read from the same bytes.
        return ParseUtf8(bytes, Path.GetDirectoryName(full)) with { Source = Encoding.UTF8.GetString(bytes) };
    }

    /// <summary>
    /// Parses a spec from its JSON text. Relative dataset paths resolve against <paramref name="baseDirectory"/>
    /// (the spec file's folder), or against the current directory when it is null.
    /// </summary>
    /// <exception cref="SpecException">The document is too large, malformed, or not a valid spec.</exception>
    public static SweepSpec Parse(string json, string? baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(json);
        int count = Encoding.UTF8.GetByteCount(json);
        if (count > MaxBytes) throw TooLarge(count);
        return ParseUtf8(Encoding.UTF8.GetBytes(json), baseDirectory);
    }

    private static SpecException TooLarge(long bytes) =>
        new("spec", $"the document is {bytes} bytes, larger than 1 MiB ({MaxBytes} bytes)");

    private static SweepSpec ParseUtf8(byte[] utf8, string? baseDirectory)
    {
        ReadOnlyMemory<byte> memory = utf8;
        // Editors on some systems write a byte-order mark; the JSON reader does not skip it.
        if (utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF) memory = memory[3..];

        JsonDocument document;
        try { document = JsonDocument.Parse(memory); }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1, column = (e.BytePositionInLine ?? 0) + 1;
            throw new SpecException("spec", $"invalid JSON at line {line}, byte {column}: {JsonReason(e.Message)}", e);
        }
        using (document) return Build(document.RootElement, baseDirectory ?? Directory.GetCurrentDirectory());
    }

    // System.Text.Json appends " LineNumber: 0 | BytePositionInLine: 3." (0-based); we report 1-based positions ourselves.
    private static string JsonReason(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (at >= 0) message = message[..at];
        return OneLine(message).TrimEnd('.', ' ');
    }

    private static SweepSpec Build(JsonElement rootElement, string baseDirectory)
    {
        if (rootElement.ValueKind != JsonValueKind.Object)
            throw new SpecException("spec", $"expected a JSON object, got {Got(rootElement)}");
        var root = Section.Read(rootElement, "", TopKeys);

        string name = root.TryGet("name", out var nameElement)
            ? ParseName(nameElement)
            : throw new SpecException("name", "required");

        var dataset = root.TryGet("dataset", out var datasetElement)
            ? ParseDataset(datasetElement, baseDirectory)
            : DatasetRef.Mnist10k;

        // Base values: each section is read (unknown keys refused) before the parameters the table places in it.
        var p = new TrialParameters();
        int? trainLimit = null;
        foreach (string sectionName in BaseSections)
        {
            Section section = root;
            if (sectionName.Length > 0)
            {
                if (!root.TryGet(sectionName, out var sectionElement)) continue;
                section = Section.Read(sectionElement, sectionName, sectionName == "training" ? TrainingKeys : PruningKeys);
            }
            foreach (var parameter in TrialParameterTable.All)
            {
                if (parameter.Section != sectionName || !section.TryGet(parameter.Key!, out var value)) continue;
                p = parameter.Kind == ParameterKind.Text
                    ? parameter.With(p, KnownName(value, parameter.JsonPath!, parameter))
                    : parameter.With(p, Number(value, parameter.JsonPath!, parameter.Domain!));
            }
            if (sectionName == "training" && section.TryGet("trainLimit", out var limit))
                trainLimit = (int)Number(limit, "training.trainLimit", TrainLimitDomain);
        }
        JsonElement e;

        IReadOnlyList<long> seeds = root.TryGet("seeds", out e) ? ParseSeeds(e) : [0];
        IReadOnlyList<string> objectives = root.TryGet("objectives", out e) ? ParseObjectives(e) : ["accuracy", "weightSparsity"];
        IReadOnlyList<double> reference = root.TryGet("referencePoint", out e) ? ParseReferencePoint(e) : [0, 0];
        int maxAttempts = root.TryGet("maxAttempts", out e)
            ? (int)Number(e, "maxAttempts", NumericDomain.Int(1, MaxAttemptsLimit))
            : 1;
        bool saveModels = root.TryGet("saveModels", out e) && Boolean(e, "saveModels");
        int? maxTrialSeconds = root.TryGet("maxTrialSeconds", out e)
            ? (int)Number(e, "maxTrialSeconds", NumericDomain.Int(1, int.MaxValue)) : null;
        long? trialEpochBudget = root.TryGet("trialEpochBudget", out e)
            ? (long)Number(e, "trialEpochBudget", NumericDomain.Int(1, long.MaxValue / 2)) : null;
        double? maxSlotShare = root.TryGet("maxSlotShare", out e)
            ? Number(e, "maxSlotShare", NumericDomain.Real(0, false, 1, true)) : null;

        var earlyStopping = root.TryGet("earlyStopping", out e) ? ParseEarlyStopping(e) : null;

        var search = root.TryGet("search", out var searchElement)
            ? ParseSearch(searchElement)
            : throw new SpecException("search", "required: give a strategy and a space of parameters to vary");

        p = p with { Seed = seeds[0] };
        CheckWithEngine(p);

        var spec = new SweepSpec
        {
            Name = name,
            Dataset = dataset,
            Base = p,
            Search = search,
            Seeds = seeds,
            Objectives = objectives,
            ReferencePoint = reference,
            TrainLimit = trainLimit,
            MaxAttempts = maxAttempts,
            SaveModels = saveModels,
            MaxTrialSeconds = maxTrialSeconds,
            TrialEpochBudget = trialEpochBudget,
            MaxSlotShare = maxSlotShare,
            EarlyStopping = earlyStopping,
        };
        SearchSpace.CheckSize(spec);
        return spec;
    }

    /// <summary>
    /// Null when <paramref name="id"/> may be a sweep id a client chose: the names' rule (letters, digits, '.', '_', '-';
    /// not "." or "..") in 1–200 characters, since an id becomes a folder name (`export`, saved models); else why not.
    /// </summary>
    public static string? IdProblem(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id is "." or "..") return $"must not be '{id}'";
        return id.Length is >= 1 and <= 200 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? null
            : "must be 1–200 characters of letters, digits, '.', '_' and '-'";
    }

    private static string ParseName(JsonElement e)
    {
        string name = Text(e, "name");
        if (name is "." or "..") throw new SpecException("name", $"must not be '{name}' (it names the output folder)");
        if (!NamePattern().IsMatch(name))
            throw new SpecException("name",
                $"must be 1–100 characters of letters, digits, '.', '_' and '-', got {Shorten(e.GetRawText())}");
        return name;
    }

    private static DatasetRef ParseDataset(JsonElement e, string baseDirectory, string field = "dataset", bool test = false)
    {
        const string Forms = "{\"images\": \"path\", \"labels\": \"path\"} (IDX or .npy), "
            + "{\"cifar10\": \"folder\"} or {\"cifar100\": \"folder\"}";
        if (e.ValueKind == JsonValueKind.String && !test)
        {
            string dataset = e.GetString()!;
            if (dataset == DatasetRef.Mnist10k.Name) return DatasetRef.Mnist10k;
            throw new SpecException(field,
                $"unknown dataset {Shorten(e.GetRawText())} (known: {DatasetRef.Mnist10k.Name}; or give {Forms})");
        }
        if (e.ValueKind != JsonValueKind.Object)
            throw new SpecException(field, test
                ? $"expected {Forms}, got {Got(e)}"
                : $"expected \"{DatasetRef.Mnist10k.Name}\" or {Forms}, got {Got(e)}");

        var files = Section.Read(e, field,
            test ? DatasetKeys.Where(k => k is not ("test" or "normalize" or "augment")).ToArray() : DatasetKeys);
        DatasetRef own;
        if (files.TryGet("cifar10", out _) || files.TryGet("cifar100", out _))
        {
            string key = files.TryGet("cifar10", out _) ? "cifar10" : "cifar100";
            foreach (string other in new[] { "cifar10", "cifar100", "images", "labels" }.Where(k => k != key))
                if (files.TryGet(other, out _)) throw new SpecException(files.Child(other), $"give either {key} or {other}, not both");
            string folder = DatasetPath(files, key, baseDirectory, folder: true);
            own = key == "cifar10" ? new DatasetRef { Cifar10 = folder } : new DatasetRef { Cifar100 = folder };
        }
        else
        {
            // Report a missing key before looking for the other key's file.
            foreach (string key in new[] { "images", "labels" })
                if (!files.TryGet(key, out _))
                    throw new SpecException(files.Child(key), "required (a path to an IDX file, gz or raw, or a NumPy .npy file)");
            string images = DatasetPath(files, "images", baseDirectory, folder: false);
            string labels = DatasetPath(files, "labels", baseDirectory, folder: false);
            if (string.Equals(images, labels, StringComparison.Ordinal))
                throw new SpecException(files.Child("labels"), $"{labels}: the same file as {files.Child("images")}");
            own = new DatasetRef { Images = images, Labels = labels };
        }
        if (files.TryGet("test", out var testElement))
            own = own with { Test = ParseDataset(testElement, baseDirectory, files.Child("test"), test: true) };
        if (files.TryGet("augment", out var augment)) own = own with { Augment = Boolean(augment, files.Child("augment")) };
        if (files.TryGet("normalize", out var normalize))
            own = own with { Normalize = ParseNormalization(normalize, files.Child("normalize")) };
        return own;
    }

    private static Normalization ParseNormalization(JsonElement e, string field)
    {
        if (e.ValueKind == JsonValueKind.True) return new Normalization { FromData = true };
        if (e.ValueKind != JsonValueKind.Object)
            throw new SpecException(field, $"expected true (from the train set) or {{\"mean\": [...], \"std\": [...]}}, got {Got(e)}");
        var section = Section.Read(e, field, ["mean", "std"]);
        double[] List(string key, NumericDomain domain)
        {
            if (!section.TryGet(key, out var list)) throw new SpecException(section.Child(key), "required (one value per channel)");
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                throw new SpecException(section.Child(key), $"expected a list of numbers, one per channel, got {Got(list)}");
            return list.EnumerateArray().Select((v, i) => Number(v, $"{section.Child(key)}[{i}]", domain)).ToArray();
        }
        var mean = List("mean", NumericDomain.Real(double.NegativeInfinity, false, double.PositiveInfinity, false));
        var std = List("std", NumericDomain.Real(0, false, double.PositiveInfinity, false));
        if (std.Length != mean.Length)
            throw new SpecException(section.Child("std"), $"{std.Length} values but mean has {mean.Length} (one per channel)");
        return new Normalization { Mean = mean, Std = std };
    }

    private static string DatasetPath(Section files, string key, string baseDirectory, bool folder)
    {
        string field = files.Child(key);
        files.TryGet(key, out var e);
        string path = Text(e, field);
        string what = folder ? "a folder" : "a path to an IDX or .npy file";
        if (path.Length == 0) throw new SpecException(field, $"must be {what}, got an empty string");
        string full;
        try { full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(baseDirectory, path)); }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new SpecException(field, $"invalid path {Shorten(e.GetRawText())}", ex);
        }
        // On a silo with data roots, the roots judge a path before anything about it is looked up.
        if (Data.DataPolicy.Current.Refusal(full) is { } refusal) throw new SpecException(field, $"{path} {refusal}");
        if (folder)
        {
            if (File.Exists(full)) throw new SpecException(field, $"{full}: is a file, not a folder");
            if (!Directory.Exists(full)) throw new SpecException(field, $"{full}: folder not found");
            return full;
        }
        if (Directory.Exists(full)) throw new SpecException(field, $"{full}: is a directory, not a file");
        if (!File.Exists(full)) throw new SpecException(field, $"{full}: file not found");
        return full;
    }

    private static IReadOnlyList<long> ParseSeeds(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array) throw new SpecException("seeds", $"expected a list of integers, got {Got(e)}");
        if (e.GetArrayLength() == 0) throw new SpecException("seeds", "must list at least one seed");
        var seeds = new List<long>();
        var firstIndex = new Dictionary<long, int>();
        foreach (var item in e.EnumerateArray())
        {
            string field = $"seeds[{seeds.Count}]";
            long seed = Integer(item, field);
            if (seed < 0) throw new SpecException(field, $"must be an integer ≥ 0, got {Shorten(item.GetRawText())}");
            if (!firstIndex.TryAdd(seed, seeds.Count)) throw new SpecException(field, $"duplicate of seeds[{firstIndex[seed]}] ({seed})");
            seeds.Add(seed);
        }
        return seeds;
    }

    private static IReadOnlyList<string> ParseObjectives(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array) throw new SpecException("objectives", $"expected a list of 2 objectives, got {Got(e)}");
        if (e.GetArrayLength() != 2)
            throw new SpecException("objectives",
                $"expected exactly 2 objectives (of {string.Join(", ", KnownObjectives)}), got {e.GetArrayLength()}");
        var objectives = new List<string>();
        foreach (var item in e.EnumerateArray())
        {
            string field = $"objectives[{objectives.Count}]";
            string objective = Text(item, field);
            if (!KnownObjectives.Contains(objective))
                throw new SpecException(field,
                    $"unknown objective {Shorten(item.GetRawText())} (known: {string.Join(", ", KnownObjectives)})");
            int previous = objectives.IndexOf(objective);
            if (previous >= 0) throw new SpecException(field, $"duplicate of objectives[{previous}] ('{objective}')");
            objectives.Add(objective);
        }
        return objectives;
    }

    private static IReadOnlyList<double> ParseReferencePoint(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array) throw new SpecException("referencePoint", $"expected a list of 2 numbers, got {Got(e)}");
        if (e.GetArrayLength() != 2)
            throw new SpecException("referencePoint", $"expected exactly 2 numbers (one per objective), got {e.GetArrayLength()}");
        var point = new List<double>();
        foreach (var item in e.EnumerateArray()) point.Add(Finite(item, $"referencePoint[{point.Count}]"));
        return point;
    }

    private static EarlyStoppingSpec ParseEarlyStopping(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new SpecException("earlyStopping", $"expected an object {{\"method\", \"rungs\", \"keep\"}}, got {Got(e)}");
        var section = Section.Read(e, "earlyStopping", EarlyStoppingKeys);
        string method = section.TryGet("method", out var m) ? Text(m, "earlyStopping.method")
            : throw new SpecException("earlyStopping.method", $"required: one of {string.Join(", ", EarlyStoppingMethods)}");
        if (!EarlyStoppingMethods.Contains(method))
            throw new SpecException("earlyStopping.method",
                $"unknown method '{Shorten(method)}' (known: {string.Join(", ", EarlyStoppingMethods)})");
        if (!section.TryGet("rungs", out var r))
            throw new SpecException("earlyStopping.rungs", "required: the epochs after which trials are judged, e.g. [1, 3, 9]");
        if (r.ValueKind != JsonValueKind.Array || r.GetArrayLength() == 0)
            throw new SpecException("earlyStopping.rungs", $"expected a non-empty list of epochs, got {Got(r)}");
        var rungs = new List<int>();
        foreach (var item in r.EnumerateArray())
        {
            string field = $"earlyStopping.rungs[{rungs.Count}]";
            int rung = (int)Number(item, field, NumericDomain.Int(1, 1_000_000));
            if (rungs.Count > 0 && rung <= rungs[^1])
                throw new SpecException(field, $"rungs must increase, got {rung} after {rungs[^1]}");
            rungs.Add(rung);
        }
        double keep = section.TryGet("keep", out var k)
            ? Number(k, "earlyStopping.keep", NumericDomain.Real(0, false, 1, false))
            : throw new SpecException("earlyStopping.keep", "required: the fraction of trials that go on at a rung, in (0, 1)");
        return new EarlyStoppingSpec { Method = method, Rungs = rungs, Keep = keep };
    }

    private static SearchSpec ParseSearch(JsonElement e)
    {
        var search = Section.Read(e, "search", SearchKeys);
        var strategy = SearchStrategy.Grid;
        if (search.TryGet("strategy", out var strategyElement))
        {
            string name = Text(strategyElement, "search.strategy");
            if (!Vocabularies.Strategies.TryParse(name, out strategy))
                throw new SpecException("search.strategy",
                    $"unknown strategy '{Shorten(name)}' (known: {string.Join(", ", KnownStrategies)})");
        }
        // Random and nsga2 draw configurations (ranges allowed); grid runs every listed one.
        bool random = strategy != SearchStrategy.Grid;
        string strategyName = Vocabularies.Strategies.Name(strategy);

        int trials = 0, population = 0;
        long seed = 0;
        if (search.TryGet("trials", out var trialsElement))
        {
            if (!random)
                throw new SpecException("search.trials",
                    $"only used by strategies random and nsga2 (a {strategyName} search runs every configuration)");
            trials = (int)Number(trialsElement, "search.trials", NumericDomain.Int(1, MaxTrials));
        }
        else if (random)
            throw new SpecException("search.trials", $"required for strategy {strategyName}: how many configurations to draw");
        if (search.TryGet("seed", out var seedElement))
        {
            if (!random)
                throw new SpecException("search.seed", $"only used by strategies random and nsga2 (a {strategyName} search draws nothing)");
            seed = Integer(seedElement, "search.seed");
            if (seed < 0) throw new SpecException("search.seed", $"must be an integer ≥ 0, got {Shorten(seedElement.GetRawText())}");
        }
        if (search.TryGet("population", out var populationElement))
        {
            if (strategy != SearchStrategy.Nsga2)
                throw new SpecException("search.population", $"only used by strategy nsga2 (a {strategyName} search has no generations)");
            population = (int)Number(populationElement, "search.population", NumericDomain.Int(1, MaxTrials));
            if (population > trials)
                throw new SpecException("search.population", $"{population} exceeds search.trials ({trials})");
        }
        else if (strategy == SearchStrategy.Nsga2) population = Math.Clamp(trials / 5, Math.Min(2, trials), 50);   // ≤ trials

        if (!search.TryGet("space", out var spaceElement))
            throw new SpecException("search.space",
                $"required: an object of parameters to vary ({string.Join(", ", TrialParameterTable.Searchable)})");
        if (spaceElement.ValueKind != JsonValueKind.Object)
            throw new SpecException("search.space", $"expected an object of parameters to vary, got {Got(spaceElement)}");
        var space = Section.Read(spaceElement, "search.space", TrialParameterTable.Searchable);
        if (space.Members.Count == 0)
            throw new SpecException("search.space", $"empty; vary at least one of {string.Join(", ", TrialParameterTable.Searchable)}");

        var dimensions = space.Members.Select(m => ParseDimension(m.Value, m.Key, space.Child(m.Key), random)).ToArray();
        return new SearchSpec { Strategy = strategy, Space = dimensions, Trials = trials, Seed = seed, Population = population };
    }

    private static Dimension ParseDimension(JsonElement e, string parameter, string field, bool random)
    {
        var descriptor = TrialParameterTable.Find(parameter)!;
        bool texts = descriptor.Kind == ParameterKind.Text;
        var domain = descriptor.Domain;
        string listKind = texts ? "names" : "numbers";

        if (e.ValueKind == JsonValueKind.Array)
        {
            if (e.GetArrayLength() == 0) throw new SpecException(field, $"empty list; give at least one value");
            if (texts)
            {
                var values = new List<string>();
                foreach (var item in e.EnumerateArray())
                {
                    string itemField = $"{field}[{values.Count}]";
                    string text = KnownName(item, itemField, descriptor);
                    int previous = values.IndexOf(text);
                    if (previous >= 0) throw new SpecException(itemField, $"duplicate value '{text}' (also at index {previous})");
                    values.Add(text);
                }
                return new Dimension { Parameter = parameter, Kind = DimensionKind.Choice, Texts = values };
            }
            var numbers = new List<double>();
            foreach (var item in e.EnumerateArray())
            {
                string itemField = $"{field}[{numbers.Count}]";
                double number = Number(item, itemField, domain!);
                // Equality, not bits: 0 and -0 are the same configuration.
                int previous = numbers.IndexOf(number);
                if (previous >= 0)
                    throw new SpecException(itemField, $"duplicate value {Shorten(item.GetRawText())} (also at index {previous})");
                numbers.Add(number);
            }
            return new Dimension { Parameter = parameter, Kind = DimensionKind.Choice, Numbers = numbers };
        }

        if (e.ValueKind != JsonValueKind.Object)
        {
            string expected = random && !texts
                ? "a list of numbers or a range {\"uniform\"|\"logUniform\"|\"int\": [low, high]}"
                : $"a list of {listKind}";
            throw new SpecException(field, $"expected {expected}, got {Got(e)}");
        }
        if (!random)
            throw new SpecException(field,
                $"grid search needs a list of {listKind}, not a range (ranges are for strategies random and nsga2)");
        if (texts)
            throw new SpecException(field, $"expected a list of names ({string.Join(", ", descriptor.Names!)}), not a range");

        var range = Section.Read(e, field, RangeKinds);
        if (range.Members.Count != 1)
            throw new SpecException(field, $"a range has exactly one of {string.Join(", ", RangeKinds)}, got {range.Members.Count} keys");
        var (kindName, bounds) = (range.Members[0].Key, range.Members[0].Value);
        string rangeField = range.Child(kindName);
        var kind = kindName switch
        {
            "uniform" => DimensionKind.Uniform,
            "logUniform" => DimensionKind.LogUniform,
            _ => DimensionKind.Int,
        };
        if (kind != DimensionKind.Int && domain!.Integer)
            throw new SpecException(rangeField, $"{parameter} takes integers; use {{\"int\": [low, high]}} or a list");
        if (bounds.ValueKind != JsonValueKind.Array) throw new SpecException(rangeField, $"expected [low, high], got {Got(bounds)}");
        if (bounds.GetArrayLength() != 2)
            throw new SpecException(rangeField, $"expected [low, high], got {bounds.GetArrayLength()} values");

        var ends = new double[2];
        for (int i = 0; i < 2; i++)
        {
            var end = bounds[i];
            string endField = $"{rangeField}[{i}]";
            ends[i] = kind == DimensionKind.Int ? Integer(end, endField) : Finite(end, endField);
            if (kind == DimensionKind.LogUniform && ends[i] <= 0)
                throw new SpecException(endField, $"must be > 0 for a log-uniform range, got {Shorten(end.GetRawText())}");
            // Both ends must be valid values: a range is only as good as the worst value it can produce.
            if (!domain!.Contains(ends[i]))
                throw new SpecException(endField, $"{domain.Describe()}, got {Shorten(end.GetRawText())}");
        }
        if (kind == DimensionKind.Int ? ends[0] > ends[1] : ends[0] >= ends[1])
            throw new SpecException(rangeField,
                $"low must be {(kind == DimensionKind.Int ? "≤" : "<")} high, "
                + $"got [{Shorten(bounds[0].GetRawText())}, {Shorten(bounds[1].GetRawText())}]");
        return new Dimension { Parameter = parameter, Kind = kind, Low = ends[0], High = ends[1] };
    }

    // The rules across parameters (each value was checked as it was read); the engine runs the same check.
    private static void CheckWithEngine(TrialParameters p)
    {
        try { TrialParameterTable.Validate(p); }
        catch (InvalidSettingException e)
        {
            string field = e.Field == "trainLimit" ? "training.trainLimit"
                : TrialParameterTable.Find(e.Field)?.JsonPath ?? e.Field;
            string prefix = e.Field + ": ";
            throw new SpecException(field,
                e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message, e);
        }
    }

    private static string KnownName(JsonElement e, string field, TrialParameter parameter)
    {
        if (parameter.ReadJson is { } read && e.ValueKind is JsonValueKind.String or JsonValueKind.Object) return read(e, field);
        string name = Text(e, field);
        var known = parameter.Names!;
        if (!known.Contains(name))
            throw new SpecException(field, $"unknown {parameter.NameKind} {Shorten(e.GetRawText())} (known: {string.Join(", ", known)})");
        return name;
    }

    private static string Text(JsonElement e, string field) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new SpecException(field, $"expected a string, got {Got(e)}");

    private static bool Boolean(JsonElement e, string field) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new SpecException(field, $"expected true or false, got {Got(e)}"),
    };

    private static double Number(JsonElement e, string field, NumericDomain domain)
    {
        double value = domain.Integer ? Integer(e, field) : Finite(e, field);
        if (!domain.Contains(value)) throw new SpecException(field, $"{domain.Describe()}, got {Shorten(e.GetRawText())}");
        return value;
    }

    private static double Finite(JsonElement e, string field)
    {
        if (e.ValueKind != JsonValueKind.Number) throw new SpecException(field, $"expected a number, got {Got(e)}");
        if (!e.TryGetDouble(out double value) || !double.IsFinite(value))
            throw new SpecException(field, $"expected a finite number, got {Shorten(e.GetRawText())}");
        return value;
    }

    private static long Integer(JsonElement e, string field)
    {
        if (e.ValueKind != JsonValueKind.Number) throw new SpecException(field, $"expected an integer, got {Got(e)}");
        if (e.TryGetInt64(out long value)) return value;
        // Accept integral numbers written with a fraction or exponent (5.0, 1e3), as JSON does not tell them apart.
        if (e.TryGetDouble(out double d) && double.IsFinite(d) && Math.Floor(d) == d && Math.Abs(d) <= MaxExactInteger) return (long)d;
        throw new SpecException(field, $"expected an integer, got {Shorten(e.GetRawText())}");
    }

    // "got object" for containers; the value itself (shortened) for scalars, so the user sees what was read.
    private static string Got(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => Shorten(e.GetRawText()),
    };

    internal static string Shorten(string text)
    {
        text = OneLine(text);
        return text.Length <= 60 ? text : text[..57] + "…";
    }

    private static string OneLine(string text) =>
        text.Contains('\n') || text.Contains('\r')
            ? string.Join(" ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
            : text;

    /// <summary>A JSON object read once: its members in document order, unknown and duplicate keys rejected.</summary>
    private sealed class Section
    {
        private readonly string _path;
        private readonly Dictionary<string, JsonElement> _byKey;

        private Section(string path, List<KeyValuePair<string, JsonElement>> members)
        {
            _path = path;
            Members = members;
            _byKey = members.ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
        }

        /// <summary>The members in document order (the search space keeps it).</summary>
        public IReadOnlyList<KeyValuePair<string, JsonElement>> Members { get; }

        public string Child(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

        public bool TryGet(string key, out JsonElement value) => _byKey.TryGetValue(key, out value);

        public static Section Read(JsonElement e, string path, IReadOnlyList<string> known)
        {
            string field = path.Length == 0 ? "spec" : path;
            if (e.ValueKind != JsonValueKind.Object) throw new SpecException(field, $"expected an object, got {Got(e)}");
            var members = new List<KeyValuePair<string, JsonElement>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in e.EnumerateObject())
            {
                string child = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (!known.Contains(property.Name))
                    throw new SpecException(Shorten(child), $"unknown key (known: {string.Join(", ", known)})");
                // JSON readers disagree on which duplicate wins; refuse to guess.
                if (!seen.Add(property.Name)) throw new SpecException(child, "duplicate key");
                members.Add(new(property.Name, property.Value));
            }
            return new Section(path, members);
        }
    }
}
