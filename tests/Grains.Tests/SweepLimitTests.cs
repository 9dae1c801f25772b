using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Grains.Security;
using Xunit;

namespace Sweep.Grains.Tests;

/// <summary>The operator's limits on a spec, and which spec submitted again under a sweep's id is the same one.</summary>
public sealed class SweepLimitTests
{
    private const string Text = """
        { "name": "limits", "search": { "strategy": "grid", "space": { "pruneRate": [0.5, 0.9] } } }
        """;

    private static SweepSpec Parse(string text) => SpecParser.Parse(text, null);

    [Fact]
    public void A_spec_submitted_again_is_the_same_whatever_the_limits_are_now_but_not_with_another_value()
    {
        var then = new SweepLimitOptions { MaxTrialSeconds = 3600, TrialEpochBudget = 1000 };
        var accepted = then.Apply(Parse(Text), 2);
        Assert.Equal(3600, accepted.MaxTrialSeconds);
        // The operator changed the caps since: a retry of the same text is still the same sweep.
        Assert.True(SweepLimitOptions.IsResubmission(accepted, Parse(Text)));
        Assert.True(SweepLimitOptions.IsResubmission(accepted, Parse(Text) with { Source = "the same, reformatted" }));
        // Saying explicitly what was filled in is the same too; saying something else is another spec.
        Assert.True(SweepLimitOptions.IsResubmission(accepted, Parse(Text) with { MaxTrialSeconds = 3600 }));
        Assert.False(SweepLimitOptions.IsResubmission(accepted, Parse(Text) with { MaxTrialSeconds = 60 }));
        Assert.False(SweepLimitOptions.IsResubmission(accepted, Parse(Text.Replace("0.9", "0.8", StringComparison.Ordinal))));
    }
}
