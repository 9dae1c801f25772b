using Sweep.Core.Models;
using Sweep.Core.Search;

namespace Sweep.Training;

/// <summary>Everything one trial computes from: the point of the sweep, the dataset, and how much of it trains.</summary>
/// <param name="Params">The trial's parameters (checked by <see cref="TrialParameterTable.Validate"/>).</param>
/// <param name="Dataset">The dataset; file paths absolute.</param>
/// <param name="TrainLimit">Train on only the first N samples of the train split (tests and smoke runs); null = all.</param>
public sealed record TrialSettings(TrialParameters Params, DatasetRef Dataset, int? TrainLimit = null)
{
    public TrialSettings() : this(new TrialParameters(), DatasetRef.Mnist10k) { }

    /// <summary>Checks every field; the exception names the field.</summary>
    public void Validate()
    {
        TrialParameterTable.Validate(Params);
        if (TrainLimit is < 1) throw new InvalidSettingException("trainLimit", $"must be ≥ 1, got {TrainLimit}");
    }
}
