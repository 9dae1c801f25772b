using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Models;

/// <summary>
/// Every 2-D convolution a model family computes, computed at channel counts the CPU libtorch gets right.
/// The libtorch of TorchSharp 0.107 (oneDNN 3.7.1, jit:avx512_core) gets two cases wrong in float32 on this project's AMD
/// EPYC machines, at either thread count (docs/algorithm.md, "Convolutions on the CPU"; measured against float64, which
/// libtorch computes without oneDNN):
/// <list type="bullet">
/// <item>the forward pass over an input of more than 16 channels that is not a multiple of 16 (errors of 0.04–0.26
/// relative, for 17–31, 33, 63, 65 channels);</item>
/// <item>the gradient with respect to the input (oneDNN's backward-data) whenever the output channels are not a multiple
/// of 16 (relative errors of 0.03–1.2, and NaN now and then, for 1–15, 17–31, 33, 63, 65 output channels, at any
/// input width; 16, 32, 48, 64 and 96 are right to 1e-6). This one made a tiny VGG's loss NaN in its first epoch.</item>
/// </list>
/// Both are computed here over zero channels: zero input channels with zero kernel columns (the same sum), and zero
/// filters whose outputs are cut away again (their gradient is zero, so backward-data sums over a multiple of 16
/// channels). The weight gradient is right at every width and is unchanged. Grouped convolutions and other devices
/// are computed as they are.
/// </summary>
public static class SafeConvolution
{
    /// <summary>The input channels the forward pass runs at: itself when ≤ 16 or a multiple of 16, else the next multiple.</summary>
    public static long InputChannels(long channels) => channels <= 16 || channels % 16 == 0 ? channels : RoundUp(channels);

    /// <summary>The output channel count a convolution whose input needs a gradient runs at: the next multiple of 16.</summary>
    public static long OutputChannels(long channels) => RoundUp(channels);

    private static long RoundUp(long channels) => (channels + 15) / 16 * 16;

    /// <summary>conv2d(<paramref name="input"/>, <paramref name="weight"/>, <paramref name="bias"/>), square stride and padding.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long padding = 0, long stride = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        long inputs = weight.shape[1], outputs = weight.shape[0];
        bool cpu = input.device_type == DeviceType.CPU && input.dtype == ScalarType.Float32;
        long padInputs = cpu ? InputChannels(inputs) - inputs : 0;
        // backward-data runs only when the input takes a gradient (not for a network's first layer, nor to evaluate).
        long padOutputs = cpu && input.requires_grad && torch.is_grad_enabled() ? OutputChannels(outputs) - outputs : 0;
        long[] pad = [padding, padding], strides = [stride, stride];
        if (padInputs == 0 && padOutputs == 0) return nn.functional.conv2d(input, weight, bias, strides, pad);

        using var scope = torch.NewDisposeScope();
        var x = input;
        var kernel = weight;
        var b = bias;
        if (padInputs > 0)
        {
            x = torch.cat([x, torch.zeros(x.shape[0], padInputs, x.shape[2], x.shape[3], x.dtype, x.device)], 1);
            var columns = torch.zeros(outputs, padInputs, weight.shape[2], weight.shape[3], weight.dtype, weight.device);
            kernel = torch.cat([kernel, columns], 1);
        }
        if (padOutputs > 0)
        {
            var filters = torch.zeros(padOutputs, kernel.shape[1], weight.shape[2], weight.shape[3], weight.dtype, weight.device);
            kernel = torch.cat([kernel, filters], 0);
            if (b is not null) b = torch.cat([b, torch.zeros(padOutputs, b.dtype, b.device)], 0);
        }
        var y = nn.functional.conv2d(x, kernel, b, strides, pad);
        if (padOutputs > 0) y = y.narrow(1, 0, outputs);
        return y.MoveToOuterDisposeScope();
    }
}
