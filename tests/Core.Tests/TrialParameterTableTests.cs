using System.Reflection;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Xunit;

namespace Sweep.Core.Tests;

public sealed class TrialParameterTableTests
{
    [Fact]
    public void Every_field_of_TrialParameters_has_exactly_one_entry_and_its_own_flag()
    {
        var fields = typeof(TrialParameters).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttributes().Any(a => a.GetType().Name == "IdAttribute"))
            .OrderBy(p => p.MetadataToken)
            .Select(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..])
            .ToArray();
        // The table's order is the canonical id's order; it must name every field once.
        Assert.Equal(fields.Order(StringComparer.Ordinal), TrialParameterTable.All.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.Equal(TrialParameterTable.All.Count, TrialParameterTable.All.Select(d => d.Flag).Distinct().Count());
    }

    [Fact]
    public void Each_entry_reads_back_the_value_it_sets()
    {
        var p = new TrialParameters();
        foreach (var d in TrialParameterTable.All)
        {
            var changed = d.Kind switch
            {
                ParameterKind.Text => d.With(p, d.Names![^1]),
                _ => d.With(p, 3),
            };
            Assert.NotEqual(d.Value(p), d.Value(changed));
            Assert.Equal(d.Kind == ParameterKind.Text ? d.Names![^1] : d.Kind == ParameterKind.Real ? 3.0 : (object)3L, d.Value(changed));
            // Only this entry's field changed.
            foreach (var other in TrialParameterTable.All.Where(o => o != d)) Assert.Equal(other.Value(p), other.Value(changed));
        }
    }

    [Fact]
    public void The_canonical_text_of_the_default_parameters_is_unchanged()
    {
        Assert.Equal(
            "model=\"mlp\";regularizer=\"l2\";lambda=0.0001;pruneRate=0.9;pruneMethod=\"stochastic\";temperature=0.5;seed=0;epochs=5;"
            + "batchSize=64;learningRate=0.05;momentum=0.9;interval=50;rampFraction=0.7",
            TrialIds.Canonical(new TrialParameters()));
    }

    [Fact]
    public void Fusing_parameters_are_those_a_fused_group_may_differ_in()
    {
        Assert.Equal(["regularizer", "lambda", "pruneRate", "pruneMethod", "temperature"],
            TrialParameterTable.All.Where(d => d.Fuses).Select(d => d.Name));
    }
}
