using Sweep.Core;
using System.Text.Json.Nodes;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

public sealed class SpecParserTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("sweep-spec-tests-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    // ---- the examples ----

    [Theory]
    [InlineData("mnist-grid.json", "mnist-grid", "grid", 3)]
    [InlineData("mnist-random.json", "mnist-random", "random", 3)]
    [InlineData("lenet5-grid.json", "lenet5-grid", "grid", 3)]
    [InlineData("mnist-models.json", "mnist-models", "grid", 1)]
    public void Example_specs_load(string file, string name, string strategy, int dimensions)
    {
        var spec = SpecParser.Load(Examples.PathOf(file));
        Assert.Equal(name, spec.Name);
        Assert.Equal(strategy, Vocabularies.Strategies.Name(spec.Search.Strategy));
        Assert.Equal(dimensions, spec.Search.Space.Count);
        Assert.Equal(DatasetRef.Mnist10k, spec.Dataset);
    }

    [Fact]
    public void Mnist_grid_parses_into_base_values_and_dimensions_in_spec_order()
    {
        var spec = SpecParser.Load(Examples.PathOf("mnist-grid.json"));

        Assert.Equal(new TrialParameters
        {
            Model = "mlp", Epochs = 5, BatchSize = 64, LearningRate = 0.05, Momentum = 0.9,
            PruneMethod = "stochastic", Temperature = 0.5, Interval = 50, RampFraction = 0.7, Seed = 0,
        }, spec.Base);
        Assert.Equal(["regularizer", "lambda", "pruneRate"], spec.Search.Space.Select(d => d.Parameter));
        Assert.All(spec.Search.Space, d => Assert.Equal(DimensionKind.Choice, d.Kind));
        Assert.Equal(["l1", "l2"], spec.Search.Space[0].Texts);
        Assert.Equal([1e-5, 1e-4, 1e-3, 1e-2], spec.Search.Space[1].Numbers);
        Assert.Equal([0.5, 0.7, 0.8, 0.9], spec.Search.Space[2].Numbers);
        Assert.Equal([0L], spec.Seeds);
        Assert.Equal(["accuracy", "weightSparsity"], spec.Objectives);
        Assert.Equal([0d, 0d], spec.ReferencePoint);
        Assert.Equal(1, spec.MaxAttempts);
        Assert.Null(spec.TrainLimit);
    }

    [Fact]
    public void Mnist_random_parses_ranges_trials_and_seed()
    {
        var spec = SpecParser.Load(Examples.PathOf("mnist-random.json"));

        Assert.Equal(24, spec.Search.Trials);
        Assert.Equal(1, spec.Search.Seed);
        var lambda = spec.Search.Space[1];
        Assert.Equal((DimensionKind.LogUniform, 1e-6, 1e-2), (lambda.Kind, lambda.Low, lambda.High));
        var rate = spec.Search.Space[2];
        Assert.Equal((DimensionKind.Uniform, 0.5, 0.97), (rate.Kind, rate.Low, rate.High));
    }

    [Fact]
    public void Lenet5_grid_uses_the_lenet5_model_for_three_epochs()
    {
        var spec = SpecParser.Load(Examples.PathOf("lenet5-grid.json"));
        Assert.Equal(("lenet5", 3), (spec.Base.Model, spec.Base.Epochs));
    }

    [Fact]
    public void A_minimal_spec_gets_the_documented_defaults()
    {
        var spec = SpecParser.Parse("""{ "name": "m", "search": { "space": { "lambda": [0.001] } } }""", null);

        Assert.Equal(DatasetRef.Mnist10k, spec.Dataset);
        Assert.Equal(SearchStrategy.Grid, spec.Search.Strategy);
        Assert.Equal(new TrialParameters(), spec.Base);
        Assert.Equal([0L], spec.Seeds);
        Assert.Equal(["accuracy", "weightSparsity"], spec.Objectives);
        Assert.Equal([0d, 0d], spec.ReferencePoint);
        Assert.Equal(1, spec.MaxAttempts);
        Assert.False(spec.SaveModels);
    }

    [Fact]
    public void SaveModels_true_or_false_is_read_into_the_spec()
    {
        Assert.True(SpecParser.Parse(Mutate(s => s["saveModels"] = true), null).SaveModels);
        Assert.False(SpecParser.Parse(Mutate(s => s["saveModels"] = false), null).SaveModels);
    }

    [Theory]
    [InlineData("\"yes\"", "saveModels: expected true or false, got \"yes\"")]
    [InlineData("1", "saveModels: expected true or false, got 1")]
    [InlineData("null", "saveModels: expected true or false, got null")]
    [InlineData("{}", "saveModels: expected true or false, got an object")]
    public void SaveModels_must_be_true_or_false(string value, string message)
    {
        Assert.Equal(message, Fails(Mutate(s => s["saveModels"] = JsonNode.Parse(value))).Message);
    }

    [Fact]
    public void Fixed_values_and_extensions_are_read_into_the_spec()
    {
        var spec = SpecParser.Parse("""
            { "name": "fixed", "model": "lenet5", "regularizer": "l1l2", "lambda": 0.002, "pruneRate": 0.6,
              "training": { "epochs": 2, "batchSize": 32, "learningRate": 0.1, "momentum": 0, "trainLimit": 500 },
              "pruning": { "method": "magnitude", "temperature": 2, "interval": 10, "rampFraction": 1 },
              "search": { "strategy": "random", "trials": 3, "seed": 7, "space": { "temperature": { "uniform": [0.1, 1] } } },
              "seeds": [3, 1], "objectives": ["accuracy", "nodeSparsity"], "referencePoint": [0.1, -1], "maxAttempts": 3 }
            """, null);

        Assert.Equal(new TrialParameters
        {
            Model = "lenet5", Regularizer = "l1l2", Lambda = 0.002, PruneRate = 0.6, Epochs = 2, BatchSize = 32,
            LearningRate = 0.1, Momentum = 0, PruneMethod = "magnitude", Temperature = 2, Interval = 10, RampFraction = 1, Seed = 3,
        }, spec.Base);
        Assert.Equal(500, spec.TrainLimit);
        Assert.Equal([3L, 1L], spec.Seeds);
        Assert.Equal(["accuracy", "nodeSparsity"], spec.Objectives);
        Assert.Equal([0.1, -1d], spec.ReferencePoint);
        Assert.Equal(3, spec.MaxAttempts);
        Assert.Equal(7, spec.Search.Seed);
    }

    [Fact]
    public void Integral_numbers_written_with_a_fraction_or_exponent_are_integers()
    {
        var spec = Parse(s => { s["training"]!["epochs"] = JsonNode.Parse("2.0"); s["seeds"] = JsonNode.Parse("[1e1]"); });
        Assert.Equal((2, 10L), (spec.Base.Epochs, spec.Seeds[0]));
    }

    // ---- datasets ----

    [Fact]
    public void Relative_dataset_paths_resolve_against_the_base_directory()
    {
        var (images, labels) = DatasetFiles("data");
        var spec = Parse(s => s["dataset"] = Dataset("data/images.idx", "./data/../data/labels.idx.gz"), _temp);
        Assert.Equal(images, spec.Dataset.Images);
        Assert.Equal(labels, spec.Dataset.Labels);
        Assert.Null(spec.Dataset.Name);
    }

    [Fact]
    public void Load_resolves_relative_dataset_paths_against_the_spec_files_folder()
    {
        var (images, labels) = DatasetFiles("specs/data");
        string file = Path.Combine(_temp, "specs", "spec.json");
        File.WriteAllText(file, Mutate(s => s["dataset"] = Dataset("data/images.idx", "data/labels.idx.gz")));

        var spec = SpecParser.Load(file);

        Assert.Equal((images, labels), (spec.Dataset.Images, spec.Dataset.Labels));
    }

    [Fact]
    public void Absolute_dataset_paths_are_kept()
    {
        var (images, labels) = DatasetFiles("abs");
        var spec = Parse(s => s["dataset"] = Dataset(images, labels), "/nonexistent-base");
        Assert.Equal((images, labels), (spec.Dataset.Images, spec.Dataset.Labels));
    }

    [Fact]
    public void A_missing_dataset_file_names_the_field_and_the_absolute_path()
    {
        var (_, labels) = DatasetFiles("data");
        var e = Fails(Mutate(s => s["dataset"] = Dataset("data/missing.idx", labels)), _temp);
        Assert.Equal("dataset.images", e.Field);
        Assert.Equal($"dataset.images: {Path.Combine(_temp, "data", "missing.idx")}: file not found", e.Message);
    }

    [Fact]
    public void A_missing_labels_file_names_dataset_labels()
    {
        var (images, _) = DatasetFiles("data");
        Assert.Equal("dataset.labels", Fails(Mutate(s => s["dataset"] = Dataset(images, "nope.gz")), _temp).Field);
    }

    [Theory]
    [InlineData("\"cifar10\"", "dataset")]
    [InlineData("42", "dataset")]
    [InlineData("""{ "images": "a" }""", "dataset.labels")]
    [InlineData("""{ "images": 1, "labels": "b" }""", "dataset.images")]
    [InlineData("""{ "images": "", "labels": "b" }""", "dataset.images")]
    [InlineData("""{ "image": "a", "labels": "b" }""", "dataset.image")]
    public void Bad_dataset_values_name_their_field(string dataset, string field)
    {
        Assert.Equal(field, Fails(Mutate(s => s["dataset"] = JsonNode.Parse(dataset)), _temp).Field);
    }

    // ---- whole-document problems ----

    [Fact]
    public void Malformed_json_reports_line_and_byte_on_one_line()
    {
        var e = Fails("{\n  \"name\": \"x\",\n  \"search\": }\n");
        Assert.Equal("spec", e.Field);
        Assert.StartsWith("spec: invalid JSON at line 3, byte 13: ", e.Message);
        Assert.DoesNotContain("LineNumber", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"name\": \"x\",}")]
    [InlineData("{\"name\": 'x'}")]
    public void Any_malformed_json_is_a_spec_error(string json)
    {
        Assert.StartsWith("spec: invalid JSON at line 1, byte ", Fails(json).Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"spec\"")]
    [InlineData("null")]
    public void A_document_that_is_not_an_object_is_rejected(string json)
    {
        Assert.StartsWith("spec: expected a JSON object, got ", Fails(json).Message);
    }

    [Fact]
    public void Documents_over_one_mebibyte_are_rejected()
    {
        string json = Mutate(s => s["name"] = "big") + new string(' ', SpecParser.MaxBytes);
        var e = Fails(json);
        Assert.Equal("spec", e.Field);
        Assert.EndsWith("larger than 1 MiB (1048576 bytes)", e.Message);
    }

    [Fact]
    public void Load_rejects_files_over_one_mebibyte_without_parsing_them()
    {
        string file = Path.Combine(_temp, "big.json");
        File.WriteAllText(file, "{" + new string(' ', SpecParser.MaxBytes) + "}");
        Assert.Contains("larger than 1 MiB", Assert.Throws<SpecException>(() => SpecParser.Load(file)).Message);
    }

    [Fact]
    public void Load_of_a_missing_file_names_the_path()
    {
        string file = Path.Combine(_temp, "nope.json");
        var e = Assert.Throws<SpecException>(() => SpecParser.Load(file));
        Assert.Equal($"spec: {file}: file not found", e.Message);
    }

    [Fact]
    public void Load_of_a_directory_is_a_spec_error()
    {
        Assert.Equal("spec", Assert.Throws<SpecException>(() => SpecParser.Load(_temp)).Field);
    }

    [Fact]
    public void Load_accepts_a_byte_order_mark()
    {
        string file = Path.Combine(_temp, "bom.json");
        File.WriteAllText(file, Examples.Text("mnist-grid.json"), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal("mnist-grid", SpecParser.Load(file).Name);
    }

    // ---- names ----

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("with space")]
    [InlineData("ünï")]
    public void Names_that_are_not_safe_folder_names_are_rejected(string name)
    {
        var e = Fails(Mutate(s => s["name"] = name));
        Assert.Equal("name", e.Field);
    }

    [Fact]
    public void Names_longer_than_100_characters_are_rejected()
    {
        Assert.Equal("name", Fails(Mutate(s => s["name"] = new string('a', 101))).Field);
        Assert.Equal(100, Parse(s => s["name"] = new string('a', 100)).Name.Length);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("my.sweep_v2-final")]
    [InlineData("...")]
    public void Names_of_letters_digits_dots_underscores_and_dashes_are_accepted(string name)
    {
        Assert.Equal(name, Parse(s => s["name"] = name).Name);
    }

    [Fact]
    public void A_missing_name_is_required()
    {
        Assert.Equal("name: required", Fails(Mutate(s => s.Remove("name"))).Message);
    }

    // ---- unknown keys and wrong types ----

    [Theory]
    [InlineData("nmae", "nmae")]
    [InlineData("training.epoch", "training.epoch")]
    [InlineData("pruning.temp", "pruning.temp")]
    [InlineData("search.trails", "search.trails")]
    [InlineData("search.space.lamda", "search.space.lamda")]
    public void Unknown_keys_are_named(string path, string field)
    {
        var e = Fails(Mutate(s => Set(s, path, 1)));
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"{field}: unknown key (known: ", e.Message);
    }

    [Fact]
    public void Duplicate_keys_are_rejected()
    {
        var e = Fails("""{ "name": "a", "name": "b", "search": { "space": { "lambda": [1] } } }""");
        Assert.Equal("name: duplicate key", e.Message);
    }

    [Theory]
    [InlineData("training.epochs", "\"5\"", "training.epochs: expected an integer, got \"5\"")]
    [InlineData("training.epochs", "2.5", "training.epochs: expected an integer, got 2.5")]
    [InlineData("training.learningRate", "true", "training.learningRate: expected a number, got true")]
    [InlineData("name", "5", "name: expected a string, got 5")]
    [InlineData("model", "null", "model: expected a string, got null")]
    [InlineData("training", "[1]", "training: expected an object, got a list")]
    [InlineData("seeds", "0", "seeds: expected a list of integers, got 0")]
    [InlineData("objectives", "\"accuracy\"", "objectives: expected a list of 2 objectives, got \"accuracy\"")]
    [InlineData("search.space", "[]", "search.space: expected an object of parameters to vary, got a list")]
    [InlineData("search.space.lambda", "0.1", "search.space.lambda: expected a list of numbers, got 0.1")]
    [InlineData("search.space.regularizer", "\"l1\"", "search.space.regularizer: expected a list of names, got \"l1\"")]
    [InlineData("search.space.regularizer.1", "3", "search.space.regularizer[1]: expected a string, got 3")]
    [InlineData("search.strategy", "1", "search.strategy: expected a string, got 1")]
    public void Wrong_types_name_the_field_and_the_expected_type(string path, string value, string message)
    {
        Assert.Equal(message, Fails(Mutate(s => Set(s, path, JsonNode.Parse(value)))).Message);
    }

    // ---- search ----

    [Fact]
    public void An_unknown_strategy_lists_the_known_ones()
    {
        var e = Fails(Mutate(s => s["search"]!["strategy"] = "bayes"));
        Assert.Equal("search.strategy", e.Field);
        Assert.Equal("search.strategy: unknown strategy 'bayes' (known: grid, random, nsga2)", e.Message);
    }

    [Fact]
    public void An_empty_space_is_rejected()
    {
        var e = Fails(Mutate(s => s["search"]!["space"] = new JsonObject()));
        Assert.Equal("search.space", e.Field);
        Assert.StartsWith("search.space: empty", e.Message);
    }

    [Fact]
    public void A_missing_search_or_space_is_rejected()
    {
        Assert.Equal("search", Fails(Mutate(s => s.Remove("search"))).Field);
        Assert.Equal("search.space", Fails(Mutate(s => s["search"]!.AsObject().Remove("space"))).Field);
    }

    [Fact]
    public void An_empty_dimension_list_is_rejected()
    {
        Assert.Equal("search.space.lambda", Fails(Mutate(s => s["search"]!["space"]!["lambda"] = new JsonArray())).Field);
    }

    [Theory]
    [InlineData("[0]", "search.space.lambda[0]: must be > 0, got 0")]
    [InlineData("[1e-4, 1e-3, -1e-5]", "search.space.lambda[2]: must be > 0, got -1e-5")]
    [InlineData("[0.0]", "search.space.lambda[0]: must be > 0, got 0.0")]
    public void Lambda_at_or_below_zero_is_rejected_in_the_space(string lambdas, string message)
    {
        Assert.Equal(message, Fails(Mutate(s => s["search"]!["space"]!["lambda"] = JsonNode.Parse(lambdas))).Message);
    }

    [Fact]
    public void Lambda_at_or_below_zero_is_rejected_as_a_fixed_value()
    {
        Assert.Equal("lambda: must be > 0, got 0", Fails(Mutate(s => s["lambda"] = 0)).Message);
    }

    [Theory]
    [InlineData("[0.5, 1]", "search.space.pruneRate[1]: must be in [0, 1), got 1")]
    [InlineData("[-0.1]", "search.space.pruneRate[0]: must be in [0, 1), got -0.1")]
    [InlineData("[1.5]", "search.space.pruneRate[0]: must be in [0, 1), got 1.5")]
    public void Prune_rates_outside_zero_to_one_are_rejected(string rates, string message)
    {
        Assert.Equal(message, Fails(Mutate(s => s["search"]!["space"]!["pruneRate"] = JsonNode.Parse(rates))).Message);
    }

    [Theory]
    [InlineData("""{ "uniform": [0.5, 1] }""", "search.space.pruneRate.uniform[1]: must be in [0, 1), got 1")]
    [InlineData("""{ "uniform": [-0.5, 0.9] }""", "search.space.pruneRate.uniform[0]: must be in [0, 1), got -0.5")]
    public void Both_ends_of_a_range_are_checked(string range, string message)
    {
        var json = Mutate(s =>
        {
            s["search"] = JsonNode.Parse("""{ "strategy": "random", "trials": 5, "space": {} }""");
            s["search"]!["space"]!["pruneRate"] = JsonNode.Parse(range);
        });
        Assert.Equal(message, Fails(json).Message);
    }

    [Theory]
    [InlineData("model", "[\"mlp\", \"resnet\"]", "search.space.model[1]")]
    [InlineData("regularizer", "[\"l3\"]", "search.space.regularizer[0]")]
    [InlineData("pruneMethod", "[\"random\"]", "search.space.pruneMethod[0]")]
    [InlineData("temperature", "[0.5, 0]", "search.space.temperature[1]")]
    [InlineData("learningRate", "[-0.1]", "search.space.learningRate[0]")]
    [InlineData("epochs", "[5, 10001]", "search.space.epochs[1]")]
    [InlineData("epochs", "[-1]", "search.space.epochs[0]")]
    [InlineData("epochs", "[1.5]", "search.space.epochs[0]")]
    [InlineData("lambda", "[1e-4, 1e-3, 1e-4]", "search.space.lambda[2]")]
    [InlineData("regularizer", "[\"l1\", \"l1\"]", "search.space.regularizer[1]")]
    [InlineData("pruneRate", "[0, -0]", "search.space.pruneRate[1]")]
    public void Invalid_dimension_values_name_their_index(string parameter, string values, string field)
    {
        Assert.Equal(field, Fails(Mutate(s => s["search"]!["space"]![parameter] = JsonNode.Parse(values))).Field);
    }

    [Theory]
    [InlineData("training.momentum", "1", "training.momentum: must be in [0, 1), got 1")]
    [InlineData("training.batchSize", "0", "training.batchSize: must be an integer in [1, 65536], got 0")]
    [InlineData("training.learningRate", "0", "training.learningRate: must be > 0, got 0")]
    [InlineData("training.trainLimit", "0", "training.trainLimit: must be an integer in [1, 2147483647], got 0")]
    [InlineData("training.epochs", "10001", "training.epochs: must be an integer in [0, 10000], got 10001")]
    [InlineData("pruning.interval", "0", "pruning.interval: must be an integer in [1, 2147483647], got 0")]
    [InlineData("pruning.rampFraction", "0", "pruning.rampFraction: must be in (0, 1], got 0")]
    [InlineData("pruning.rampFraction", "1.01", "pruning.rampFraction: must be in (0, 1], got 1.01")]
    [InlineData("pruning.temperature", "0", "pruning.temperature: must be > 0, got 0")]
    [InlineData("pruning.method", "\"lottery\"", "pruning.method: unknown prune method \"lottery\" (known: stochastic, magnitude, none)")]
    [InlineData("model", "\"resnet\"", "model: unknown model \"resnet\" (known: mlp, lenet5, vgg11, vgg16)")]
    [InlineData("regularizer", "\"l0\"", "regularizer: unknown regularizer \"l0\" (known: none, l1, l2, l1l2)")]
    [InlineData("pruneRate", "1", "pruneRate: must be in [0, 1), got 1")]
    [InlineData("maxAttempts", "21", "maxAttempts: must be an integer in [1, 20], got 21")]
    [InlineData("maxAttempts", "0", "maxAttempts: must be an integer in [1, 20], got 0")]
    public void Fixed_values_are_checked_like_trial_settings(string path, string value, string message)
    {
        Assert.Equal(message, Fails(Mutate(s => Set(s, path, JsonNode.Parse(value)))).Message);
    }

    [Theory]
    [InlineData("[]", "seeds")]
    [InlineData("[0, -1]", "seeds[1]")]
    [InlineData("[0, 1, 0]", "seeds[2]")]
    [InlineData("[0.5]", "seeds[0]")]
    public void Seeds_must_be_distinct_non_negative_integers(string seeds, string field)
    {
        Assert.Equal(field, Fails(Mutate(s => s["seeds"] = JsonNode.Parse(seeds))).Field);
    }

    [Theory]
    [InlineData("[\"accuracy\"]", "objectives")]
    [InlineData("[\"accuracy\", \"weightSparsity\", \"nodeSparsity\"]", "objectives")]
    [InlineData("[\"accuracy\", \"loss\"]", "objectives[1]")]
    [InlineData("[\"accuracy\", \"accuracy\"]", "objectives[1]")]
    public void Objectives_are_two_distinct_known_names(string objectives, string field)
    {
        Assert.Equal(field, Fails(Mutate(s => s["objectives"] = JsonNode.Parse(objectives))).Field);
    }

    [Theory]
    [InlineData("[0]", "referencePoint")]
    [InlineData("[0, \"0\"]", "referencePoint[1]")]
    public void The_reference_point_is_two_numbers(string point, string field)
    {
        Assert.Equal(field, Fails(Mutate(s => s["referencePoint"] = JsonNode.Parse(point))).Field);
    }

    [Fact]
    public void Grid_search_rejects_ranges()
    {
        var e = Fails(Mutate(s => s["search"]!["space"]!["lambda"] = JsonNode.Parse("""{ "logUniform": [1e-5, 1e-2] }""")));
        Assert.Equal("search.space.lambda", e.Field);
        Assert.Contains("grid search needs a list", e.Message);
    }

    [Theory]
    [InlineData("""{ "trials": 0 }""", "search.trials")]
    [InlineData("""{ "trials": 100001 }""", "search.trials")]
    [InlineData("""{ "trials": 5, "seed": -1 }""", "search.seed")]
    [InlineData("""{ }""", "search.trials")]
    public void Random_search_needs_a_valid_trial_count_and_seed(string settings, string field)
    {
        var json = Mutate(s =>
        {
            var search = JsonNode.Parse(settings)!.AsObject();
            search["strategy"] = "random";
            search["space"] = JsonNode.Parse("""{ "lambda": { "logUniform": [1e-5, 1e-2] } }""");
            s["search"] = search;
        });
        Assert.Equal(field, Fails(json).Field);
    }

    [Theory]
    [InlineData("trials", "5")]
    [InlineData("seed", "1")]
    public void Grid_search_rejects_random_only_settings(string key, string value)
    {
        Assert.Equal($"search.{key}", Fails(Mutate(s => s["search"]![key] = JsonNode.Parse(value))).Field);
    }

    [Theory]
    [InlineData("lambda", """{ "logUniform": [0, 1e-2] }""", "search.space.lambda.logUniform[0]")]
    [InlineData("lambda", """{ "uniform": [1e-2, 1e-3] }""", "search.space.lambda.uniform")]
    [InlineData("lambda", """{ "uniform": [1e-3] }""", "search.space.lambda.uniform")]
    [InlineData("lambda", """{ "uniform": "1e-3" }""", "search.space.lambda.uniform")]
    [InlineData("lambda", """{ "normal": [0, 1] }""", "search.space.lambda.normal")]
    [InlineData("lambda", """{ "uniform": [1e-5, 1e-3], "int": [1, 2] }""", "search.space.lambda")]
    [InlineData("lambda", """{ }""", "search.space.lambda")]
    [InlineData("epochs", """{ "int": [1, 2.5] }""", "search.space.epochs.int[1]")]
    [InlineData("epochs", """{ "int": [3, 2] }""", "search.space.epochs.int")]
    [InlineData("epochs", """{ "uniform": [1, 5] }""", "search.space.epochs.uniform")]
    [InlineData("epochs", """{ "int": [1, 20000] }""", "search.space.epochs.int[1]")]
    [InlineData("model", """{ "int": [1, 2] }""", "search.space.model")]
    public void Bad_ranges_name_their_field(string parameter, string range, string field)
    {
        var json = Mutate(s =>
        {
            s["search"] = JsonNode.Parse("""{ "strategy": "random", "trials": 2, "space": {} }""");
            s["search"]!["space"]![parameter] = JsonNode.Parse(range);
        });
        Assert.Equal(field, Fails(json).Field);
    }

    [Fact]
    public void A_grid_of_more_than_100000_trials_is_rejected()
    {
        var json = Mutate(s =>
        {
            s["search"]!["space"]!["lambda"] = new JsonArray(Enumerable.Range(1, 400).Select(i => (JsonNode)(i * 1e-6)).ToArray());
            s["search"]!["space"]!["pruneRate"] = new JsonArray(Enumerable.Range(0, 300).Select(i => (JsonNode)(i / 1000.0)).ToArray());
        });
        var e = Fails(json);
        Assert.Equal("search: 240000 configurations × 1 seed = 240000 trials exceed the limit of 100000", e.Message);
    }

    [Fact]
    public void Seeds_count_towards_the_trial_limit()
    {
        var json = Mutate(s => s["seeds"] = new JsonArray(Enumerable.Range(0, 3200).Select(i => (JsonNode)i).ToArray()));
        Assert.Equal("search: 32 configurations × 3200 seeds = 102400 trials exceed the limit of 100000", Fails(json).Message);
    }

    [Fact]
    public void Random_search_asking_for_more_configurations_than_exist_is_rejected_at_parse_time()
    {
        var json = Mutate(s => s["search"] = JsonNode.Parse("""
            { "strategy": "random", "trials": 10, "space": { "regularizer": ["l1", "l2"], "epochs": { "int": [1, 2] } } }
            """));
        Assert.Equal("search.trials: 10 exceeds the 4 distinct configurations of the space", Fails(json).Message);
    }

    [Fact]
    public void Every_error_message_is_one_line_of_field_and_reason()
    {
        string[] bad =
        [
            "{", "[]", Mutate(s => s["name"] = "a\nb"), Mutate(s => Set(s, "nmae\nx", 1)),
            Mutate(s => s["search"]!["strategy"] = "a\r\nb"), Mutate(s => s["model"] = new string('m', 5000)),
        ];
        foreach (var json in bad)
        {
            var e = Fails(json);
            Assert.DoesNotContain('\n', e.Message);
            Assert.DoesNotContain('\r', e.Message);
            Assert.True(e.Message.Length < 400, e.Message);
        }
    }

    // ---- helpers ----

    private static SpecException Fails(string json, string? baseDirectory = null)
    {
        var e = Assert.Throws<SpecException>(() => SpecParser.Parse(json, baseDirectory));
        Assert.Equal($"{e.Field}: {e.Reason}", e.Message);
        return e;
    }

    private static SweepSpec Parse(Action<JsonObject> change, string? baseDirectory = null) =>
        SpecParser.Parse(Mutate(change), baseDirectory);

    /// <summary>mnist-grid.json with one change applied.</summary>
    private static string Mutate(Action<JsonObject> change)
    {
        var spec = Examples.Tree("mnist-grid.json");
        change(spec);
        return spec.ToJsonString();
    }

    /// <summary>Sets a dotted path ("training.epochs", "search.space.regularizer.1"); numeric segments index arrays.</summary>
    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        string[] parts = path.Split('.');
        JsonNode node = root;
        foreach (var part in parts[..^1]) node = int.TryParse(part, out int i) ? node[i]! : node[part]!;
        if (int.TryParse(parts[^1], out int index)) node[index] = value;
        else node[parts[^1]] = value;
    }

    private static JsonObject Dataset(string images, string labels) => new() { ["images"] = images, ["labels"] = labels };

    private (string Images, string Labels) DatasetFiles(string folder)
    {
        string dir = Path.Combine(_temp, folder);
        Directory.CreateDirectory(dir);
        string images = Path.Combine(dir, "images.idx"), labels = Path.Combine(dir, "labels.idx.gz");
        File.WriteAllBytes(images, [0]);
        File.WriteAllBytes(labels, [0]);
        return (images, labels);
    }
}
