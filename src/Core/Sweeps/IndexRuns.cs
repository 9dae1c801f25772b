namespace Sweep.Core.Sweeps;

/// <summary>
/// A set of plan indexes as runs of consecutive indexes, each run two LEB128 varints (the gap since the previous run's
/// end, the run's length): a few bytes for "every trial" or a handful of front members alike.
/// </summary>
public static class IndexRuns
{
    /// <summary>Encodes ascending, distinct, non-negative indexes.</summary>
    public static byte[] Encode(IEnumerable<int> ascending)
    {
        ArgumentNullException.ThrowIfNull(ascending);
        var bytes = new List<byte>();
        int end = 0;            // one past the previous run
        int start = -1, length = 0;
        foreach (int i in ascending)
        {
            if (start >= 0 && i == start + length) { length++; continue; }
            if (start >= 0) { Write(bytes, start - end); Write(bytes, length); end = start + length; }
            if (i < end) throw new ArgumentException("indexes must be ascending and distinct", nameof(ascending));
            start = i;
            length = 1;
        }
        if (start >= 0) { Write(bytes, start - end); Write(bytes, length); }
        return [.. bytes];
    }

    public static IEnumerable<int> Decode(byte[] runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        int at = 0, end = 0;
        while (at < runs.Length)
        {
            int start = end + Read(runs, ref at);
            int length = Read(runs, ref at);
            for (int i = 0; i < length; i++) yield return start + i;
            end = start + length;
        }
    }

    private static void Write(List<byte> bytes, int value)
    {
        uint v = (uint)value;
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }
        bytes.Add((byte)v);
    }

    private static int Read(byte[] bytes, ref int at)
    {
        uint v = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (at >= bytes.Length || shift > 28) throw new FormatException("truncated index runs");
            byte b = bytes[at++];
            v |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return (int)v;
        }
    }
}
