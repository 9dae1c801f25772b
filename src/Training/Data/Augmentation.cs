using TorchSharp;
using static TorchSharp.torch;

namespace Sweep.Training.Data;

/// <summary>
/// The usual CIFAR augmentation, applied to each training batch: every image is zero-padded by 4 pixels a side, a
/// random 4-pixel-shifted crop of its original size is taken, and it is flipped left to right with probability ½. The
/// draws come from the trial's own augmentation stream (<see cref="Seed"/>), so a trial is as repeatable as without it.
/// Test images are never augmented.
/// </summary>
public sealed class Augmentation(int channels, int height, int width, Generator generator)
{
    public const int Padding = 4;

    /// <summary>The augmentation stream's seed: SplitMix64's second output for the trial seed (the first is pruning's).</summary>
    public static ulong Seed(long trialSeed)
    {
        var mix = new Core.SplitMix64((ulong)trialSeed);
        mix.Next();
        return mix.Next();
    }

    /// <summary>A new batch [B, C·H·W]: each row shifted and possibly flipped; the input is not changed.</summary>
    public Tensor Apply(Tensor batch)
    {
        long b = batch.shape[0];
        using var scope = torch.NewDisposeScope();
        var images = batch.view(b, channels, height, width);
        var padded = nn.functional.pad(images, [Padding, Padding, Padding, Padding]);
        var dx = torch.randint(0, 2 * Padding + 1, [b], generator: generator).data<long>().ToArray();
        var dy = torch.randint(0, 2 * Padding + 1, [b], generator: generator).data<long>().ToArray();
        var flip = torch.rand([b], generator: generator).data<float>().ToArray();
        var rows = new Tensor[b];
        for (long i = 0; i < b; i++)
        {
            var crop = padded[i].narrow(1, dy[i], height).narrow(2, dx[i], width);
            rows[i] = flip[i] < 0.5f ? crop.flip(2) : crop;
        }
        return torch.stack(rows).reshape(b, -1).contiguous().MoveToOuterDisposeScope();
    }
}
