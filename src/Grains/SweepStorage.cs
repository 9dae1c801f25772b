namespace Sweep.Grains;

/// <summary>The name of the grain storage every Sweep grain uses.</summary>
public static class SweepStorage
{
    public const string Name = "sweep";
}
