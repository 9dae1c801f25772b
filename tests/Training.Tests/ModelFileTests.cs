using Sweep.Core.Models;
using Sweep.Training;
using Sweep.Training.Compaction;
using Sweep.Training.Models;
using Xunit;

namespace Sweep.Training.Tests;

public sealed class ModelFileTests
{
    [Fact]
    public void A_description_file_keeps_the_documented_flat_settings_and_loads_back_into_the_records()
    {
        string dir = Directory.CreateTempSubdirectory("sweep-model-v1-").FullName;
        try
        {
            string path = Path.Combine(dir, "t1.pt");
            using (var net = NetworkShape.Full("mlp").Build()) ModelFile.Save(net, new TrialSettings(), path);
            var written = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(ModelFile.DescriptionPath(path)))!;
            Assert.Equal("sweep-model/1", (string?)written["format"]);
            Assert.Equal("mnist10k", (string?)written["settings"]!["dataset"]!["builtIn"]);
            Assert.Equal("l2", (string?)written["settings"]!["regularizer"]);
            // What earlier releases wrote next to the weights (the format of docs/interface.md).
            File.WriteAllText(ModelFile.DescriptionPath(path), """
                { "format": "sweep-model/1", "model": "mlp", "widths": [300, 100], "compacted": false,
                  "settings": { "model": "mlp", "regularizer": "l1", "lambda": 0.001, "pruneRate": 0.8, "pruneMethod": "magnitude",
                    "temperature": 0.5, "interval": 50, "rampFraction": 0.7, "epochs": 3, "batchSize": 64, "learningRate": 0.05,
                    "momentum": 0.9, "seed": 7, "dataset": { "builtIn": null, "imagesPath": "/d/x.gz", "labelsPath": "/d/y.gz" },
                    "trainLimit": 500 } }
                """);

            var description = ModelFile.Describe(path);

            Assert.Equal(ModelDescription.CurrentFormat, description.Format);
            var settings = description.Settings!;
            Assert.Equal(new TrialParameters { Regularizer = "l1", Lambda = 0.001, PruneRate = 0.8, PruneMethod = "magnitude", Epochs = 3,
                Seed = 7 }, settings.Params);
            Assert.Equal(new DatasetRef { Images = "/d/x.gz", Labels = "/d/y.gz" }, settings.Dataset);
            Assert.Equal(500, settings.TrainLimit);
            using var loaded = ModelFile.Load(path);
            Assert.Equal(NetworkShape.Full("mlp"), loaded.Network.Shape);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Every_model_name_of_the_vocabulary_has_one_family_and_only_two_layer_mlps_fuse()
    {
        Assert.Equal(ModelSpec.Families, ModelFamilies.All.Select(f => f.Name));
        Assert.Equal(["mlp/2"], ModelFamilies.Fusing);
        foreach (string model in ModelSpec.Names)
        {
            var shape = NetworkShape.Full(model, model.StartsWith("vgg", StringComparison.Ordinal) ? [3, 32, 32] : null);
            using var network = shape.Build();
            Assert.Equal(shape.LayerNames, network.Layers.Select(l => l.Name));
            Assert.Equal(ModelFamilies.Get(model).Widths(ModelSpec.Parse(model)), network.Layers.SkipLast(1).Select(l => l.OutUnits));
        }
    }

    [Fact]
    public void A_model_of_cifar_images_keeps_its_input_classes_and_dataset_in_its_description()
    {
        string dir = Directory.CreateTempSubdirectory("sweep-model-cifar-").FullName;
        try
        {
            string path = Path.Combine(dir, "c.pt");
            var dataset = new DatasetRef
            {
                Cifar10 = "/data/cifar", Test = new DatasetRef { Images = "/data/x.npy", Labels = "/data/y.npy" },
                Normalize = new Normalization { Mean = [0.5, 0.4, 0.3], Std = [0.2, 0.2, 0.25] },
            };
            var settings = new TrialSettings(new TrialParameters { Model = "mlp[64]" }, dataset, 500);
            using (var net = NetworkShape.Full("mlp[64]", [3, 32, 32], 100).Build()) ModelFile.Save(net, settings, path);

            var written = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(ModelFile.DescriptionPath(path)))!;
            Assert.Equal("/data/cifar", (string?)written["settings"]!["dataset"]!["cifar10"]);
            Assert.Equal("/data/x.npy", (string?)written["settings"]!["dataset"]!["test"]!["imagesPath"]);
            using var loaded = ModelFile.Load(path);
            Assert.Equal(new NetworkShape("mlp", [64], [3, 32, 32], 100), loaded.Network.Shape);
            Assert.Equal(settings, loaded.Description.Settings);
            Assert.Equal(3L * 32 * 32 * 64, loaded.Network.Layers[0].Weight.numel());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_saved_vgg_loads_with_its_architecture_and_compacting_it_reads_its_dataset()
    {
        string dir = Directory.CreateTempSubdirectory("sweep-model-vgg-").FullName;
        try
        {
            string path = Path.Combine(dir, "v.pt");
            const string Model = "vgg(4,M|8|bn|1)";
            // A dataset that does not exist: compaction compares both networks on it, so it says so, naming the folder.
            var settings = new TrialSettings(new TrialParameters { Model = Model }, new DatasetRef { Cifar10 = "/nonexistent" });
            using (var net = NetworkShape.Full(Model, [3, 32, 32]).Build()) ModelFile.Save(net, settings, path);

            using (var loaded = ModelFile.Load(path))
            {
                Assert.Equal(NetworkShape.Full(Model, [3, 32, 32]), loaded.Network.Shape);
                Assert.Equal(["conv1", "fc1", "fc2"], loaded.Network.Layers.Select(l => l.Name));
            }
            var e = Assert.Throws<Sweep.Core.Data.DatasetException>(() => Compaction.CompactionReport.CompactFile(path));
            Assert.Contains("/nonexistent", e.Message);
            Assert.False(File.Exists(Compaction.CompactionReport.DefaultOutputPath(path)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
