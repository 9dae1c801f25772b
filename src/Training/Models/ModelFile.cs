using Sweep.Core.Search;
using Sweep.Core.Models;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Sweep.Training.Compaction;
using TorchSharp;

namespace Sweep.Training.Models;

/// <summary>
/// What a saved model is: its architecture (model and hidden widths, enough to rebuild it), whether it was compacted
/// (and from which file), and the settings of the trial that trained it (its dataset, to evaluate it on).
/// Written as JSON next to the weights: MODEL.pt and MODEL.json.
/// </summary>
public sealed record ModelDescription
{
    /// <summary>
    /// The file format (docs/interface.md): "settings" holds the trial's parameters, "dataset" ({builtIn, imagesPath,
    /// labelsPath}) and "trainLimit" side by side; in memory they are <see cref="TrialSettings"/>' three parts.
    /// </summary>
    public const string CurrentFormat = "sweep-model/1";

    public string Format { get; init; } = CurrentFormat;
    /// <summary>"mlp" or "lenet5".</summary>
    public string Model { get; init; } = "";
    /// <summary>The hidden widths (<see cref="NetworkShape.Widths"/>).</summary>
    public IReadOnlyList<long> Widths { get; init; } = [];
    /// <summary>A sample's [channels, height, width]; null (files of earlier releases): MNIST's [1, 28, 28].</summary>
    public IReadOnlyList<int>? Input { get; init; }
    /// <summary>The output layer's classes; null (files of earlier releases): 10.</summary>
    public int? Classes { get; init; }
    /// <summary>The layout beyond the widths, for families that have one (vgg: its model text); null otherwise.</summary>
    public string? Architecture { get; init; }
    public bool Compacted { get; init; }
    /// <summary>The model file a compacted model was made from.</summary>
    public string? CompactedFrom { get; init; }
    /// <summary>The trial's settings, dataset included; null when unknown.</summary>
    public TrialSettings? Settings { get; init; }
}

/// <summary>A model loaded from its file: the network (on the CPU) and its description. Dispose it to free the network.</summary>
public sealed class SavedModel(string path, PrunableNetwork network, ModelDescription description) : IDisposable
{
    /// <summary>The absolute path of the weights file.</summary>
    public string Path { get; } = path;
    public PrunableNetwork Network { get; } = network;
    public ModelDescription Description { get; } = description;

    public void Dispose() => Network.Dispose();
}

/// <summary>A file that is missing or is not a model this code saved; <see cref="Path"/> names it.</summary>
public sealed class ModelFileException(string path, string message, Exception? inner = null) : Exception($"{path}: {message}", inner)
{
    public string Path { get; } = path;
}

/// <summary>
/// Saves and loads models in TorchSharp's format (<c>module.save</c>: every parameter by name, conv1.weight … fc3.bias),
/// with a JSON description next to the weights (the same path with extension .json). Pruned weights are stored as
/// the zeros they are, so the masks need no file of their own. Files are written to a temporary name and renamed,
/// so a reader never sees half a file.
/// </summary>
public static class ModelFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The description's path for a model file: the same path with extension .json.</summary>
    public static string DescriptionPath(string modelPath) => System.IO.Path.ChangeExtension(modelPath, ".json");

    /// <summary>Saves a trained network with the settings of its trial (the call at the end of <see cref="TrialRunner.Run"/>).</summary>
    public static void Save(PrunableNetwork network, TrialSettings settings, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(settings);
        var shape = network.Shape;
        var named = NetworkShape.Full(settings.Params.Model);
        if (shape.Model != named.Model || !shape.Widths.SequenceEqual(named.Widths))
            throw new ArgumentException($"the network is a {shape}, but the settings name a {settings.Params.Model}");
        Write(network, new ModelDescription
        {
            Model = shape.Model, Widths = shape.Widths, Input = shape.Input, Classes = shape.Classes, Architecture = shape.Architecture,
            Settings = settings,
        }, path);
    }

    /// <summary>
    /// Saves a dense network (e.g. a compacted one); its model and widths replace those of <paramref name="description"/>.
    /// </summary>
    public static void Save(PrunableNetwork network, ModelDescription description, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(description);
        Write(network,
            description with
            {
                Format = ModelDescription.CurrentFormat, Model = network.Shape.Model, Widths = network.Shape.Widths,
                Input = network.Shape.Input, Classes = network.Shape.Classes, Architecture = network.Shape.Architecture,
            },
            path);
    }

    private static void Write(torch.nn.Module network, ModelDescription description, string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (full.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{full}: a model file cannot end in .json (that is its description's name)");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        string weightsTemp = full + ".tmp", descriptionPath = DescriptionPath(full), descriptionTemp = descriptionPath + ".tmp";
        network.save(weightsTemp);
        File.WriteAllText(descriptionTemp, ToFileFormat(JsonSerializer.SerializeToNode(description, Json)!).ToJsonString(Json) + "\n");
        File.Move(weightsTemp, full, overwrite: true);
        File.Move(descriptionTemp, descriptionPath, overwrite: true);
    }

    /// <summary>Reads a model's description without loading its weights.</summary>
    /// <exception cref="ModelFileException">The file or its description is missing or not a saved model.</exception>
    public static ModelDescription Describe(string path)
    {
        string full = CheckedPath(path);
        string descriptionPath = DescriptionPath(full);
        if (!File.Exists(descriptionPath))
            throw new ModelFileException(full,
                $"not a saved Sweep model (its description {System.IO.Path.GetFileName(descriptionPath)} is missing)");
        ModelDescription? description;
        try { description = FromFileFormat(JsonNode.Parse(File.ReadAllText(descriptionPath)))?.Deserialize<ModelDescription>(Json); }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new ModelFileException(descriptionPath, $"not a Sweep model description ({FirstLine(e.Message)})", e);
        }
        catch (IOException e) { throw new ModelFileException(descriptionPath, $"cannot read ({FirstLine(e.Message)})", e); }
        catch (UnauthorizedAccessException e) { throw new ModelFileException(descriptionPath, "cannot read (permission denied)", e); }
        if (description is null || description.Format != ModelDescription.CurrentFormat)
            throw new ModelFileException(descriptionPath,
                $"not a Sweep model description (format is not {ModelDescription.CurrentFormat})");
        try { _ = ShapeOf(description); }
        catch (ArgumentException e) { throw new ModelFileException(descriptionPath, e.Message, e); }
        return description;
    }

    /// <summary>
    /// Loads a model saved by <see cref="Save(PrunableNetwork, TrialSettings, string)"/> or
    /// <see cref="Save(PrunableNetwork, ModelDescription, string)"/>, on the CPU.
    /// </summary>
    /// <exception cref="ModelFileException">The file or its description is missing, or the weights do not fit the description.</exception>
    public static SavedModel Load(string path)
    {
        var description = Describe(path);
        string full = System.IO.Path.GetFullPath(path);
        var shape = ShapeOf(description);
        PrunableNetwork network;
        try { network = shape.Build(); }
        catch (Exception e) when (e is ArgumentException or InvalidSettingException)
        {
            throw new ModelFileException(full, $"cannot build a {description.Model} from its description ({FirstLine(e.Message)})", e);
        }
        try
        {
            network.load(full);
        }
        catch (Exception e)
        {
            network.Dispose();
            throw new ModelFileException(full, $"not the weights of a {shape} in TorchSharp's format ({FirstLine(e.Message)})", e);
        }
        return new SavedModel(full, network, description);
    }

    private static NetworkShape ShapeOf(ModelDescription d)
    {
        var shape = new NetworkShape(d.Model, d.Widths ?? [], d.Input, d.Classes ?? 10) { Architecture = d.Architecture };
        // A vgg's layout is its architecture: it must be there and have as many hidden layers as the widths.
        if (d.Model == "vgg" && ModelSpec.Parse(d.Architecture ?? "vgg").Widths!.Count != shape.Widths.Count)
            throw new ArgumentException($"architecture {d.Architecture} does not have {shape.Widths.Count} hidden layers");
        return shape;
    }

    private static string CheckedPath(string path)
    {
        string full;
        try { full = System.IO.Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ModelFileException(path, "invalid path", e);
        }
        if (Directory.Exists(full)) throw new ModelFileException(full, "is a directory, not a model file");
        if (!File.Exists(full)) throw new ModelFileException(full, "file not found");
        if (full.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            string weights = System.IO.Path.ChangeExtension(full, ".pt");
            throw new ModelFileException(full, File.Exists(weights)
                ? $"is a model's description; give the weights file next to it ({System.IO.Path.GetFileName(weights)})"
                : "is a JSON file, not a saved model (a model is MODEL.pt with its description MODEL.json next to it)");
        }
        return full;
    }

    /// <summary>The description as the file holds it: the settings' parameters, dataset and train limit in one object.</summary>
    private static JsonNode ToFileFormat(JsonNode node)
    {
        if (node["settings"] is not JsonObject settings) return node;
        var flat = settings["params"] is JsonObject parameters ? (JsonObject)parameters.DeepClone() : [];
        flat["dataset"] = DatasetToFile(settings["dataset"] as JsonObject);
        flat["trainLimit"] = settings["trainLimit"]?.DeepClone();
        node["settings"] = flat;
        return node;
    }

    /// <summary>A description read from a file, with its flat settings split into parameters, dataset and train limit.</summary>
    private static JsonNode? FromFileFormat(JsonNode? node)
    {
        if (node is not JsonObject description || description["settings"] is not JsonObject flat) return node;
        var dataset = flat["dataset"] as JsonObject;
        var trainLimit = flat["trainLimit"]?.DeepClone();
        var parameters = (JsonObject)flat.DeepClone();
        parameters.Remove("dataset");
        parameters.Remove("trainLimit");
        description["settings"] = new JsonObject
        {
            ["params"] = parameters,
            ["dataset"] = DatasetFromFile(dataset),
            ["trainLimit"] = trainLimit,
        };
        return description;
    }

    // The file's dataset object: builtIn, imagesPath, labelsPath as the first release wrote them; cifar10, cifar100 and
    // test only when set (the test set in the same form).
    private static JsonObject? DatasetToFile(JsonObject? d)
    {
        if (d is null) return null;
        var file = new JsonObject
        {
            ["builtIn"] = d["name"]?.DeepClone(),
            ["imagesPath"] = d["images"]?.DeepClone(),
            ["labelsPath"] = d["labels"]?.DeepClone(),
        };
        if (d["cifar10"] is { } ten) file["cifar10"] = ten.DeepClone();
        if (d["cifar100"] is { } hundred) file["cifar100"] = hundred.DeepClone();
        if (d["test"] is JsonObject test) file["test"] = DatasetToFile(test);
        if (d["normalize"] is JsonObject normalize) file["normalize"] = normalize.DeepClone();
        if (d["augment"] is JsonValue augment && augment.GetValue<bool>()) file["augment"] = true;
        return file;
    }

    private static JsonObject? DatasetFromFile(JsonObject? file) => file is null ? null : new JsonObject
    {
        ["name"] = file["builtIn"]?.DeepClone(),
        ["images"] = file["imagesPath"]?.DeepClone(),
        ["labels"] = file["labelsPath"]?.DeepClone(),
        ["cifar10"] = file["cifar10"]?.DeepClone(),
        ["cifar100"] = file["cifar100"]?.DeepClone(),
        ["test"] = DatasetFromFile(file["test"] as JsonObject),
        ["normalize"] = file["normalize"]?.DeepClone(),
        ["augment"] = file["augment"]?.DeepClone() ?? false,
    };

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
