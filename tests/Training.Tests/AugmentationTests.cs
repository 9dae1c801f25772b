using Sweep.Core.Models;
using Sweep.Training.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Sweep.Training.Tests;

public sealed class AugmentationTests
{
    private static readonly TrainingOptions Cpu = new("cpu", 1);

    /// <summary>The image shifted by (dx, dy) within its zero padding, flipped left-right or not.</summary>
    private static float[,] Shifted(float[,] image, int dx, int dy, bool flip)
    {
        int h = image.GetLength(0), w = image.GetLength(1);
        var result = new float[h, w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sx = x + dx - Augmentation.Padding, sy = y + dy - Augmentation.Padding;
                float v = sx >= 0 && sx < w && sy >= 0 && sy < h ? image[sy, sx] : 0;
                result[y, flip ? w - 1 - x : x] = v;
            }
        return result;
    }

    [Fact]
    public void Every_augmented_image_is_its_original_shifted_by_at_most_4_pixels_and_maybe_flipped_and_the_draws_repeat()
    {
        const int n = 16, h = 5, w = 6;
        var values = Enumerable.Range(0, n * h * w).Select(i => (float)(i + 1)).ToArray();
        using var batch = tensor(values, [n, h * w]);

        using var first = new Generator(Augmentation.Seed(3), CPU);
        using var again = new Generator(Augmentation.Seed(3), CPU);
        using var a = new Augmentation(1, h, w, first).Apply(batch);
        using var b = new Augmentation(1, h, w, again).Apply(batch);

        Assert.Equal(batch.shape, a.shape);
        Assert.True(a.eq(b).all().item<bool>(), "the same seed must draw the same crops and flips");
        var output = a.data<float>().ToArray();
        int flipped = 0, moved = 0;
        for (int i = 0; i < n; i++)
        {
            var image = new float[h, w];
            for (int p = 0; p < h * w; p++) image[p / w, p % w] = values[i * h * w + p];
            var found = (from dx in Enumerable.Range(0, 9) from dy in Enumerable.Range(0, 9) from flip in new[] { false, true }
                         let s = Shifted(image, dx, dy, flip)
                         where Enumerable.Range(0, h * w).All(p => s[p / w, p % w] == output[i * h * w + p])
                         select (dx, dy, flip)).ToArray();
            Assert.NotEmpty(found);
            if (found.All(f => f.flip)) flipped++;
            if (found.All(f => (f.dx, f.dy) != (4, 4))) moved++;
        }
        Assert.InRange(flipped, 1, n - 1);   // about half
        Assert.True(moved > n / 2, $"{moved} of {n} moved");
    }

    [Fact]
    public void An_augmented_trial_repeats_itself_and_differs_from_the_plain_one()
    {
        var plain = new TrialSettings
        {
            Params = new() { Model = "vgg(4,M,8,M|16|bn|1)", PruneRate = 0.5, Epochs = 1 },
            TrainLimit = 1_000,
        };
        var augmented = plain with { Dataset = plain.Dataset with { Augment = true } };

        var a = TrialRunner.Run(augmented, Cpu, cancellationToken: TestContext.Current.CancellationToken);
        var b = TrialRunner.Run(augmented, Cpu, cancellationToken: TestContext.Current.CancellationToken);
        var c = TrialRunner.Run(plain, Cpu, cancellationToken: TestContext.Current.CancellationToken);

        // Same draws, same batches, same thread count: the same numbers, whatever other tests run beside this one.
        Assert.Equal(a.Epochs[0].Loss, b.Epochs[0].Loss);
        Assert.Equal(a.Accuracy, b.Accuracy);
        Assert.True(Math.Abs(a.Epochs[0].Loss - c.Epochs[0].Loss) > 1e-2 * c.Epochs[0].Loss,
            $"augmented loss {a.Epochs[0].Loss} vs plain {c.Epochs[0].Loss}");
        Assert.Null(Fusion.FusedTraining.Key(augmented with { Params = augmented.Params with { Model = "mlp" } }));
    }
}
