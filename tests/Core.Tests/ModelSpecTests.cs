using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

public sealed class ModelSpecTests
{
    private static SweepSpec Parse(string model, string space = "\"lambda\": [0.001]") => SpecParser.Parse(
        $$"""{ "name": "m", "model": {{model}}, "search": { "space": { {{space}} } } }""", null);

    [Theory]
    [InlineData("mlp", "mlp", new[] { 300, 100 })]
    [InlineData("mlp[500,150]", "mlp", new[] { 500, 150 })]
    [InlineData("mlp[64]", "mlp", new[] { 64 })]
    [InlineData("mlp[300,100]", "mlp", new[] { 300, 100 })]
    public void Texts_name_a_family_and_its_widths(string text, string family, int[] widths)
    {
        var spec = ModelSpec.Parse(text);
        Assert.Equal(family, spec.Family);
        Assert.Equal(widths, spec.Widths);
    }

    [Fact]
    public void The_default_widths_written_out_are_the_default_model_with_the_same_trial_id()
    {
        var named = Parse("\"mlp\"");
        var written = Parse("""{ "family": "mlp", "hidden": [300, 100] }""");
        var wide = Parse("""{ "family": "mlp", "hidden": [500, 150] }""");

        Assert.Equal("mlp", written.Base.Model);
        Assert.Equal(SearchSpace.Expand(named)[0].TrialId, SearchSpace.Expand(written)[0].TrialId);
        Assert.Equal("mlp[500,150]", wide.Base.Model);
        Assert.NotEqual(SearchSpace.Expand(named)[0].TrialId, SearchSpace.Expand(wide)[0].TrialId);
    }

    [Fact]
    public void Models_of_several_widths_are_one_search_dimension()
    {
        var spec = Parse("\"mlp\"", """ "model": ["mlp", { "family": "mlp", "hidden": [500, 150] }, "lenet5"] """);

        Assert.Equal(["mlp", "mlp[500,150]", "lenet5"], SearchSpace.Expand(spec).Select(p => p.Params.Model));
    }

    [Theory]
    [InlineData("\"resnet\"", "model", "unknown model \"resnet\" (known: mlp, lenet5, vgg11, vgg16)")]
    [InlineData("""{ "family": "lenet5", "hidden": [10] }""", "model.hidden", "model lenet5 has a fixed architecture")]
    [InlineData("""{ "family": "mlp", "hidden": [500, 0] }""", "model.hidden", "every hidden width must be in [1, 65536], got 0")]
    [InlineData("""{ "family": "mlp", "hidden": [] }""", "model.hidden", "give at least one hidden width")]
    [InlineData("""{ "hidden": [5] }""", "model.family", "required")]
    [InlineData("""{ "family": "mlp", "depth": 3 }""", "model.depth", "unknown key")]
    [InlineData("\"mlp[5,x]\"", "model", "'x' is not a width")]
    [InlineData("17", "model", "expected a string, got")]
    public void A_bad_model_names_its_field(string model, string field, string message)
    {
        var e = Assert.Throws<SpecException>(() => Parse(model));
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_engine_check_refuses_a_model_text_that_is_not_one()
    {
        var e = Assert.Throws<InvalidSettingException>(() => TrialParameterTable.Validate(new TrialParameters { Model = "mlp[0]" }));
        Assert.Equal("model", e.Field);
    }
}

public sealed class WireFormatTests
{
    [Fact]
    public void The_strategy_travels_as_its_name_and_json_shows_the_name_once()
    {
        var random = new SearchSpec { Strategy = SearchStrategy.Random, Trials = 3 };

        Assert.Equal("random", random.StrategyName);
        Assert.Equal(SearchStrategy.Random, new SearchSpec { StrategyName = "random" }.Strategy);
        string json = System.Text.Json.JsonSerializer.Serialize(random, SweepJson.Options);
        Assert.Contains("\"strategy\":\"random\"", json);
        Assert.DoesNotContain("strategyName", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<SearchSpec>(json, SweepJson.Options)!;
        Assert.Equal((SearchStrategy.Random, "random", 3), (back.Strategy, back.StrategyName, back.Trials));
    }

    [Fact]
    public void Model_texts_are_kept_canonical_whoever_sets_them()
    {
        var model = TrialParameterTable.Find("model")!;
        Assert.Equal("mlp", model.With(new TrialParameters(), "mlp[300,100]").Model);
        Assert.Equal("mlp[500,150]", model.With(new TrialParameters(), "mlp[0500,150]").Model);
        var e = Assert.Throws<SpecException>(() => SpecParser.Parse(
            """{ "name": "m", "model": { "family": "mlp", "hidden": [5], "hidden": [6] }, "search": { "space": { "lambda": [0.1] } } }""",
            null));
        Assert.Equal("model.hidden", e.Field);
    }
}

public sealed class VggSpecTests
{
    private static ModelSpec Read(string json) => ModelSpec.Read(System.Text.Json.JsonDocument.Parse(json).RootElement, "model");

    [Fact]
    public void The_cifar_presets_have_their_convolutions_and_a_classifier_of_512()
    {
        var vgg16 = ModelSpec.Parse("vgg16");
        Assert.Equal("vgg", vgg16.Family);
        Assert.Equal(13 + 1, vgg16.Widths!.Count);
        Assert.Equal(5, vgg16.Vgg!.Pools);
        Assert.Equal(8 + 1, ModelSpec.Parse("vgg11").Widths!.Count);
        Assert.Equal("vgg16", Read("""{ "family": "vgg16" }""").Text);
    }

    [Fact]
    public void Objects_scale_widths_by_the_multiplier_and_their_text_reads_back()
    {
        var quarter = Read("""{ "family": "vgg16", "widthMultiplier": 0.25 }""");
        Assert.StartsWith("vgg(64,64,M,128,128,M,", quarter.Text);
        Assert.EndsWith("|512|bn|0.25)", quarter.Text);
        Assert.Equal([16, 16, 32, 32, 64, 64, 64, 128, 128, 128, 128, 128, 128, 128], quarter.Widths);
        Assert.Equal(quarter, ModelSpec.Parse(quarter.Text));

        Assert.NotEqual(ModelSpec.Parse("vgg11"), ModelSpec.Parse("vgg16"));
        Assert.Null(ModelSpec.TryParse("vgg(64,0|512|bn|1)", out _));
        var small = Read("""{ "family": "vgg", "layers": [8, "M", 16, "M"], "classifier": [32], "batchNorm": false }""");
        Assert.Equal("vgg(8,M,16,M|32|nobn|1)", small.Text);
        Assert.Equal([8, 16, 32], small.Widths);
        Assert.Equal(small, ModelSpec.Parse(small.Text));
    }

    [Theory]
    [InlineData("""{ "family": "vgg" }""", "model.layers")]
    [InlineData("""{ "family": "vgg", "layers": [8, "X"] }""", "model.layers[1]")]
    [InlineData("""{ "family": "vgg16", "widthMultiplier": 0 }""", "model.widthMultiplier")]
    [InlineData("""{ "family": "vgg16", "batchNorm": 1 }""", "model.batchNorm")]
    [InlineData("""{ "family": "vgg19" }""", "model.family")]
    [InlineData("""{ "family": "vgg", "layers": ["M", 64] }""", "model.layers")]
    [InlineData("""{ "family": "vgg", "layers": [64, "M", "M"] }""", "model.layers")]
    public void Bad_vgg_objects_name_their_field(string json, string field) =>
        Assert.Equal(field, Assert.Throws<SpecException>(() => Read(json)).Field);

    [Fact]
    public void A_vgg_needs_images_that_survive_its_pools()
    {
        Assert.Contains("at least 32 pixels a side", ModelSpec.Parse("vgg16").InputProblem([1, 28, 28]));
        Assert.Null(ModelSpec.Parse("vgg16").InputProblem([3, 32, 32]));
        Assert.Null(Read("""{ "family": "vgg", "layers": [8, "M", 16, "M"] }""").InputProblem([1, 28, 28]));
    }
}
