namespace Sweep.Core.Data;

/// <summary>
/// Reads the CIFAR binary layout: records of a label byte (CIFAR-10; CIFAR-100 has a coarse and a fine label byte, the
/// fine one is used) followed by 3,072 pixel bytes, the 32×32 red plane, then green, then blue. CIFAR-10 is
/// <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> (train) and <c>test_batch.bin</c>; CIFAR-100 is <c>train.bin</c>
/// and <c>test.bin</c>.
/// </summary>
public static class CifarReader
{
    public const int Side = 32, Channels = 3, Pixels = Channels * Side * Side;

    /// <summary>The files of the train and the test part of a CIFAR folder.</summary>
    public static (string[] Train, string[] Test) Files(string directory, bool hundred) => hundred
        ? ([Path.Combine(directory, "train.bin")], [Path.Combine(directory, "test.bin")])
        : (Enumerable.Range(1, 5).Select(i => Path.Combine(directory, $"data_batch_{i}.bin")).ToArray(),
            [Path.Combine(directory, "test_batch.bin")]);

    /// <summary>The records of these files, in order, as one image set (labels 0–9, or 0–99 for CIFAR-100).</summary>
    public static ImageData Read(IReadOnlyList<string> files, bool hundred)
    {
        int labelBytes = hundred ? 2 : 1, record = labelBytes + Pixels;
        var parts = files.Select(f =>
        {
            byte[] bytes = DataFiles.ReadAll(f);
            if (bytes.Length == 0 || bytes.Length % record != 0)
                throw new DatasetException(f,
                    $"{bytes.Length} bytes is not a whole number of {record}-byte CIFAR-{(hundred ? 100 : 10)} records "
                    + "(truncated, or the other CIFAR variant)");
            return bytes;
        }).ToArray();
        long total = parts.Sum(p => (long)(p.Length / record));
        if (total * Pixels > Array.MaxLength) throw new DatasetException(files[0], $"{total} records are too many to load at once");
        int count = (int)total;
        var pixels = new byte[(long)count * Pixels];
        var labels = new int[count];
        int at = 0;
        for (int f = 0; f < parts.Length; f++)
        {
            var bytes = parts[f];
            for (int r = 0; r < bytes.Length / record; r++, at++)
            {
                int label = bytes[r * record + labelBytes - 1];
                if (label >= (hundred ? 100 : 10))
                    throw new DatasetException(files[f], $"label {label} of record {r} is outside 0–{(hundred ? 99 : 9)}");
                labels[at] = label;
                bytes.AsSpan(r * record + labelBytes, Pixels).CopyTo(pixels.AsSpan((int)((long)at * Pixels), Pixels));
            }
        }
        return new ImageData(count, Channels, Side, Side, pixels, null, labels, hundred ? 100 : 10);
    }
}
