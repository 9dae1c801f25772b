using Sweep.Training.Regularization;
using Xunit;
using static TorchSharp.torch;

namespace Sweep.Training.Tests;

public sealed class RegularizerTests
{
    private static readonly float[] W = [0.5f, -2f, 0f, 3f];

    [Theory]
    [InlineData("none", 0.1, 0.0)]
    [InlineData("l1", 0.1, 0.1 * (0.5 + 2 + 0 + 3))]
    [InlineData("l2", 0.1, 0.05 * (0.25 + 4 + 0 + 9))]
    [InlineData("l1l2", 0.1, 0.1 * 5.5 + 0.05 * 13.25)]
    public void Penalty_matches_the_hand_computed_value(string kind, double lambda, double expected)
    {
        using var scope = NewDisposeScope();
        var penalty = new Regularizer(kind, lambda).Penalty(tensor(W)).item<float>();
        Assert.Equal(expected, penalty, 5);
    }

    [Theory]
    [InlineData("none", new[] { 1f, 1f, 1f, 1f })]
    [InlineData("l1", new[] { 1.1f, 0.9f, 1f, 1.1f })]               // + λ·sign(w), sign(0) = 0
    [InlineData("l2", new[] { 1.05f, 0.8f, 1f, 1.3f })]              // + λ·w
    [InlineData("l1l2", new[] { 1.15f, 0.7f, 1f, 1.4f })]
    public void Gradient_matches_the_hand_computed_value(string kind, float[] expected)
    {
        using var scope = NewDisposeScope();
        var grad = ones(4);
        new Regularizer(kind, 0.1).AddGradient(tensor(W), grad);
        Assert.Equal(expected, grad.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Theory]
    [InlineData("l1")]
    [InlineData("l2")]
    [InlineData("l1l2")]
    public void Gradient_equals_autograd_of_the_penalty(string kind)
    {
        using var scope = NewDisposeScope();
        var reg = new Regularizer(kind, 0.01);
        var w = tensor(new float[] { 0.3f, -0.7f, 1.5f, -0.1f }).requires_grad_(true);
        Tensor penalty = kind switch
        {
            "l1" => w.abs().sum() * 0.01,
            "l2" => w.square().sum() * 0.005,
            _ => w.abs().sum() * 0.01 + w.square().sum() * 0.005,
        };
        penalty.backward();
        var manual = zeros(4);
        reg.AddGradient(w.detach(), manual);
        Assert.True(manual.allclose(w.grad!, rtol: 1e-6, atol: 1e-7));
        Assert.Equal(penalty.item<float>(), reg.Penalty(w.detach()).item<float>(), 6);
    }

    [Fact]
    public void Unknown_regularizers_are_rejected_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => new Regularizer("l3", 0.1));
        Assert.Contains("l3", e.Message);
    }
}
