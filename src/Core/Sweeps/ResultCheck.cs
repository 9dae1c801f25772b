using Sweep.Core.Models;

namespace Sweep.Core.Sweeps;

/// <summary>
/// What a result read back from a file must be before a run trusts it: the schema's required fields, every measure
/// finite and in its range, and the parameters of the planned trial it claims to be.
/// </summary>
public static class ResultCheck
{
    /// <summary>Null when <paramref name="result"/> can stand for <paramref name="plan"/>'s trial, else why not (one phrase).</summary>
    public static string? Problem(TrialResult result, TrialPlan plan)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(plan);
        if (result.TrialId != plan.TrialId) return $"its trial id {result.TrialId} is not the planned {plan.TrialId}";
        if (result.Params != plan.Params) return "its parameters are not the ones the plan gives its trial id";
        if (!Enum.IsDefined(result.Status)) return $"status {(int)result.Status} is not a status";
        if (result.Status == TrialStatus.Completed)
        {
            if ((Fraction("accuracy", result.Accuracy) ?? Fraction("weightSparsity", result.WeightSparsity)
                ?? Fraction("nodeSparsity", result.NodeSparsity)) is { } bad) return bad;
            if (result.Epochs.Count > result.Params.Epochs)
                return $"it has {result.Epochs.Count} epochs, the plan {result.Params.Epochs}";
        }
        for (int i = 0; i < result.Epochs.Count; i++)
        {
            var e = result.Epochs[i];
            if (e.Epoch != i + 1) return $"epoch record {i + 1} is numbered {e.Epoch}";
            if ((Fraction($"epoch {e.Epoch} accuracy", e.Accuracy) ?? Fraction($"epoch {e.Epoch} weightSparsity", e.WeightSparsity)
                ?? Fraction($"epoch {e.Epoch} nodeSparsity", e.NodeSparsity)) is { } bad) return bad;
            if (result.Status == TrialStatus.Completed && !(double.IsFinite(e.Loss) && e.Loss >= 0))
                return $"epoch {e.Epoch} loss {e.Loss} is not a finite non-negative number";
            if (!(double.IsFinite(e.Seconds) && e.Seconds >= 0)) return $"epoch {e.Epoch} seconds {e.Seconds} is not ≥ 0";
        }
        foreach (var layer in result.Layers)
        {
            if (layer.Weights < 0 || layer.ZeroWeights < 0 || layer.ZeroWeights > layer.Weights
                || layer.Nodes < 0 || layer.DeadNodes < 0 || layer.DeadNodes > layer.Nodes)
                return $"layer {layer.Name}'s counts are not 0 ≤ zero ≤ weights, 0 ≤ dead ≤ nodes";
        }
        if (!(double.IsFinite(result.Seconds) && result.Seconds >= 0)) return $"seconds {result.Seconds} is not ≥ 0";
        if (result.Attempts < 0) return $"attempts {result.Attempts} is negative";
        return null;
    }

    private static string? Fraction(string name, double? value) =>
        value is not { } v ? $"{name} is missing"
        : double.IsFinite(v) && v is >= 0 and <= 1 ? null
        : $"{name} {v} is outside [0, 1]";
}
