using Sweep.Core;
using Sweep.Core.Models;
using static TorchSharp.torch;

namespace Sweep.Training.Regularization;

/// <summary>
/// The penalty on prunable weights (never biases): none; l1: λ·Σ|w|; l2: (λ/2)·Σw²; l1l2: both.
/// The gradient is added to the weight's gradient directly, which is what autograd of the penalty would add,
/// without building a graph for it on every step.
/// </summary>
public sealed class Regularizer
{
    public RegularizerKind Kind { get; }
    public double Lambda { get; }
    private readonly bool _l1, _l2;

    public Regularizer(RegularizerKind kind, double lambda)
    {
        Kind = kind;
        Lambda = lambda;
        _l1 = HasL1(kind);
        _l2 = HasL2(kind);
    }

    /// <summary>A regularizer by its name in specs ("none", "l1", "l2", "l1l2"); an unknown name throws.</summary>
    public Regularizer(string kind, double lambda) : this(Vocabularies.Regularizers.Parse(kind), lambda) { }

    /// <summary>The trial's regularizer.</summary>
    public static Regularizer For(TrialParameters p) => new(p.RegularizerKind, p.Lambda);

    /// <summary>Whether the kind has an L1 term (λ·Σ|w|).</summary>
    public static bool HasL1(RegularizerKind kind) => kind is RegularizerKind.L1 or RegularizerKind.L1L2;

    /// <summary>Whether the kind has an L2 term ((λ/2)·Σw²).</summary>
    public static bool HasL2(RegularizerKind kind) => kind is RegularizerKind.L2 or RegularizerKind.L1L2;

    public bool IsActive => (_l1 || _l2) && Lambda != 0;

    /// <summary>The penalty of one weight tensor as a 0-d tensor (no graph).</summary>
    public Tensor Penalty(Tensor weight)
    {
        using var _ = no_grad();
        if (!IsActive) return zeros(1, dtype: weight.dtype, device: weight.device).squeeze();
        Tensor? l1 = _l1 ? weight.abs().sum().mul_(Lambda) : null;
        Tensor? l2 = _l2 ? weight.square().sum().mul_(Lambda / 2) : null;
        if (l1 is not null && l2 is not null) { l1.add_(l2); l2.Dispose(); return l1; }
        return (l1 ?? l2)!;
    }

    /// <summary>grad += λ·sign(w) (l1) and/or λ·w (l2).</summary>
    public void AddGradient(Tensor weight, Tensor grad)
    {
        if (!IsActive) return;
        using var _ = no_grad();
        if (_l1)
        {
            using var sign = weight.sign();
            grad.add_(sign, alpha: Lambda);
        }
        if (_l2) grad.add_(weight, alpha: Lambda);
    }
}
