using Microsoft.Extensions.Logging;
using Sweep.Core;
using Sweep.Core.Data;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Grains.Security;

namespace Sweep.Grains.Coordinator;

/// <summary>
/// The silo's own check of a submitted spec (whatever the client checked): every field, every planned trial, the
/// operator's limits (applied where the spec is silent), the models' size and each dataset file against this silo's
/// data policy. Refusals are <see cref="SweepRefusedException"/>s naming the field: deterministic, never retried.
/// </summary>
internal static class SpecCheck
{
    public static async Task<(SweepSpec Spec, IReadOnlyList<TrialPlan> Plans)> CheckAsync(
        SweepSpec spec, SweepLimitOptions limits, string sweepId, ILogger logger)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(spec);
            SearchSpace.CheckSize(spec);   // before expanding, so a huge space costs nothing
            var plans = SearchSpace.Expand(spec);
            SpecParser.Recheck(spec, plans);
            spec = limits.Apply(spec, SearchSpace.PlannedTrials(spec, plans));
            var dataset = spec.Dataset;
            // File checks stat and, for gzip, stream through up to the size cap: off the grain's scheduler.
            await Task.Run(() =>
            {
                foreach (string file in DatasetReader.FilesOf(dataset)) DataPolicy.Current.Probe(file);
                // Model size needs the images' shape and classes: the built-in set's are known, others are read.
                var (input, classes) = dataset.Name is not null
                    ? (SpecData.BuiltInInput, SpecData.BuiltInClasses)
                    : SpecData.Check(spec, plans);
                limits.CheckModels(spec, plans, input, classes);
            });
            return (spec, plans);
        }
        catch (SpecException e)
        {
            logger.LogInformation("Sweep {Sweep}: spec refused ({Field}: {Reason})", sweepId, e.Field, e.Reason);
            throw new SweepRefusedException(e.Field, e.Reason);
        }
        catch (DatasetException e)
        {
            logger.LogInformation("Sweep {Sweep}: dataset refused ({Reason})", sweepId, e.Message);
            throw new SweepRefusedException("dataset", e.Message);
        }
    }
}
