using Sweep.Core.Pareto;
using Xunit;

namespace Sweep.Core.Tests;

public sealed class HypervolumeTests
{
    private const int Digits = 12;

    [Fact]
    public void A_single_point_spans_the_rectangle_to_the_reference()
    {
        Assert.Equal(0.9 * 0.5, Hypervolume.Of([(0.9, 0.5)], 0, 0), Digits);
    }

    [Fact]
    public void Two_points_form_a_staircase()
    {
        // [0,0.9]×[0,0.5] ∪ [0,0.6]×[0,0.8] = 0.45 + 0.6·0.3
        Assert.Equal(0.45 + 0.18, Hypervolume.Of([(0.9, 0.5), (0.6, 0.8)], 0, 0), Digits);
    }

    [Fact]
    public void Three_points_form_a_staircase_in_any_input_order()
    {
        // x: 0.9, 0.7, 0.4; y: 0.2, 0.5, 0.9 → 0.9·0.2 + 0.7·0.3 + 0.4·0.4
        const double expected = 0.18 + 0.21 + 0.16;
        Assert.Equal(expected, Hypervolume.Of([(0.9, 0.2), (0.7, 0.5), (0.4, 0.9)], 0, 0), Digits);
        Assert.Equal(expected, Hypervolume.Of([(0.4, 0.9), (0.9, 0.2), (0.7, 0.5)], 0, 0), Digits);
    }

    [Fact]
    public void Dominated_and_duplicate_points_change_nothing()
    {
        (double, double)[] front = [(0.9, 0.2), (0.7, 0.5), (0.4, 0.9)];
        var clean = Hypervolume.Of(front, 0, 0);
        (double, double)[] noisy =
        [
            .. front, .. front, (0.5, 0.4), (0.9, 0.1), (0.4, 0.9), (0.1, 0.1), (0.7, 0.5), (0.3, 0.9), (0.7, 0.2),
        ];
        Assert.Equal(clean, Hypervolume.Of(noisy, 0, 0), Digits);
    }

    [Fact]
    public void Points_at_or_below_the_reference_contribute_nothing()
    {
        var reference = Hypervolume.Of([(0.8, 0.8)], 0.2, 0.3);
        (double, double)[] extra =
            [(0.2, 0.9), (0.9, 0.3), (0.2, 0.3), (0.1, 0.95), (0.95, 0.1), (-1, -1), (double.NaN, 0.99), (0.99, double.NaN)];
        Assert.Equal(reference, Hypervolume.Of([(0.8, 0.8), .. extra], 0.2, 0.3), Digits);
        Assert.Equal(0, Hypervolume.Of(extra, 0.2, 0.3));
    }

    [Fact]
    public void A_non_zero_reference_point_shrinks_every_rectangle()
    {
        // (0.9-0.5)·(0.5-0.25) + (0.6-0.5)·(0.8-0.5); the point at x 0.4 lies left of the reference.
        Assert.Equal(0.4 * 0.25 + 0.1 * 0.3, Hypervolume.Of([(0.9, 0.5), (0.6, 0.8), (0.4, 0.95)], 0.5, 0.25), Digits);
    }

    [Fact]
    public void A_negative_reference_point_counts_the_area_below_zero()
    {
        Assert.Equal(2 * 1.5, Hypervolume.Of([(1, 0.5)], -1, -1), Digits);
    }

    [Fact]
    public void No_points_give_zero()
    {
        Assert.Equal(0, Hypervolume.Of([], 0, 0));
    }

    [Fact]
    public void Equals_a_grid_count_of_the_dominated_region_on_random_points()
    {
        // Points on a 1/20 grid: the exact area is the number of dominated grid cells times the cell area.
        var rng = new Random(7);
        for (int round = 0; round < 20; round++)
        {
            var points = Enumerable.Range(0, rng.Next(1, 40)).Select(_ => (X: rng.Next(21) / 20.0, Y: rng.Next(21) / 20.0)).ToArray();
            int cells = 0;
            for (int i = 0; i < 20; i++)
                for (int j = 0; j < 20; j++)
                    if (points.Any(p => p.X >= (i + 1) / 20.0 && p.Y >= (j + 1) / 20.0)) cells++;
            Assert.Equal(cells / 400.0, Hypervolume.Of(points, 0, 0), 9);
        }
    }

    [Fact]
    public void A_NaN_reference_point_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Hypervolume.Of([(1, 1)], double.NaN, 0));
        Assert.Throws<ArgumentException>(() => Hypervolume.Of([(1, 1)], 0, double.NaN));
    }
}
