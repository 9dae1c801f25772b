namespace Sweep.Core.Models;

/// <summary>
/// What one trial of a model costs before it trains (docs/algorithm.md, "Model size"): its parameters (weights and biases,
/// batch norm's scale and shift) and an estimate of its training memory, 4-byte floats for
/// <list type="bullet">
/// <item>every parameter four times (the value, its gradient, its momentum, the pruning mask), and</item>
/// <item>every activation of a batch three times (the output, its gradient, what the backward pass keeps).</item>
/// </list>
/// Computed from the spec and the images' shape alone, by counting, so an oversized model is refused without allocating it.
/// </summary>
public readonly record struct ModelSize(long Parameters, long TrainingBytes)
{
    private const long Float = 4;

    /// <summary>The size of <paramref name="model"/> on samples of shape <paramref name="input"/> ([C, H, W]).</summary>
    public static ModelSize Of(ModelSpec model, IReadOnlyList<int> input, int classes, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var (parameters, activations) = model.Vgg is { } vgg ? Vgg(vgg, input, classes)
            : model.Family == "lenet5" ? LeNet5(classes)
            : Dense([(long)input[0] * input[1] * input[2], .. model.Widths!.Select(w => (long)w), classes]);
        return new ModelSize(parameters, Float * (4 * parameters + 3 * (long)batchSize * activations));
    }

    // Fully connected layers between the given widths: weights and biases, and one activation per unit.
    private static (long Parameters, long Activations) Dense(IReadOnlyList<long> widths)
    {
        long parameters = 0, activations = 0;
        for (int i = 1; i < widths.Count; i++)
        {
            parameters += widths[i - 1] * widths[i] + widths[i];
            activations += widths[i];
        }
        return (parameters, activations);
    }

    // conv 1→6 (5×5, pad 2) on 28×28, pool, conv 6→16 (5×5) to 10×10, pool, 400 → 120 → 84 → classes.
    private static (long Parameters, long Activations) LeNet5(int classes)
    {
        var (dense, denseActivations) = Dense([16 * 25, 120, 84, classes]);
        long parameters = 25 * 6 + 6 + 25 * 6 * 16 + 16 + dense;
        long activations = 6 * 28 * 28 + 6 * 14 * 14 + 16 * 10 * 10 + 16 * 5 * 5 + denseActivations;
        return (parameters, activations);
    }

    // 3×3 convolutions (padding 1) with batch norm when asked, 2×2 pools, then the classifier.
    private static (long Parameters, long Activations) Vgg(VggConfig vgg, IReadOnlyList<int> input, int classes)
    {
        long channels = input[0], height = input[1], width = input[2], parameters = 0, activations = 0;
        foreach (int layer in vgg.Layers)
        {
            if (layer == VggConfig.Pool)
            {
                height /= 2;
                width /= 2;
                activations += channels * height * width;
                continue;
            }
            long outputs = vgg.Scale(layer);
            parameters += 9 * channels * outputs + outputs + (vgg.BatchNorm ? 2 * outputs : 0);
            activations += outputs * height * width * (vgg.BatchNorm ? 2 : 1);
            channels = outputs;
        }
        var (dense, denseActivations) = Dense([channels * height * width, .. vgg.Classifier.Select(c => (long)vgg.Scale(c)), classes]);
        return (parameters + dense, activations + denseActivations);
    }
}
