namespace Sweep.Core.Data;

/// <summary>
/// Labelled images as read from a file: <see cref="Count"/> samples of <see cref="Channels"/> × <see cref="Height"/> ×
/// <see cref="Width"/> values each, channel-major (CHW) per sample, either bytes (scaled to [0, 1] when used) or floats
/// (used as they are), and one integer label per sample.
/// </summary>
public sealed class ImageData
{
    public ImageData(int count, int channels, int height, int width, byte[]? bytes, float[]? floats, int[] labels, int classes)
    {
        long features = (long)channels * height * width;
        if ((bytes?.LongLength ?? floats!.LongLength) != count * features)
            throw new ArgumentException("pixel count does not match the shape");
        if (labels.Length != count) throw new ArgumentException("one label per sample");
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
        Bytes = bytes;
        Floats = floats;
        Labels = labels;
        Classes = classes;
    }

    public int Count { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    /// <summary>Values per sample: channels × height × width.</summary>
    public int Features => Channels * Height * Width;
    /// <summary>The pixels as bytes (0–255), or null when they are floats.</summary>
    public byte[]? Bytes { get; }
    /// <summary>The pixels as floats, or null when they are bytes.</summary>
    public float[]? Floats { get; }
    public int[] Labels { get; }
    /// <summary>How many classes the labels come from (labels are 0 … Classes − 1).</summary>
    public int Classes { get; }

    /// <summary>"3×32×32".</summary>
    public string ShapeText => $"{Channels}×{Height}×{Width}";

    /// <summary>Sample <paramref name="index"/>'s value <paramref name="feature"/>, in [0, 1] for bytes.</summary>
    public float Value(int index, int feature) =>
        Bytes is { } b ? b[(long)index * Features + feature] / 255f : Floats![(long)index * Features + feature];
}

/// <summary>A dataset file that cannot be used; <see cref="Path"/> names it.</summary>
public class DatasetException(string path, string message, Exception? inner = null) : Exception($"{path}: {message}", inner)
{
    public string Path { get; } = path;
}
