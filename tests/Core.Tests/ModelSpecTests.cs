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
    [InlineData("\"vgg\"", "model", "unknown model \"vgg\" (known: mlp, lenet5)")]
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
