using System.Buffers.Binary;

namespace Sweep.Core.Data;

/// <summary>Reads IDX files (the MNIST format), gzipped or raw.</summary>
public static class IdxReader
{
    public const int ImagesMagic = 2051;
    public const int LabelsMagic = 2049;

    /// <summary>Reads an images file: u8[N, rows, cols]. Returns the bytes and the shape.</summary>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        var bytes = DataFiles.ReadAll(path);
        var header = Header(bytes, path, ImagesMagic, dimensions: 3);
        int count = header[0], rows = header[1], cols = header[2];
        long expected = (long)count * rows * cols;
        const int offset = 16;
        if (bytes.Length - offset < expected)
            throw new DatasetException(path,
                $"truncated: header says {count}×{rows}×{cols} pixels ({expected} bytes) but only {bytes.Length - offset} follow");
        return (bytes.AsSpan(offset, (int)expected).ToArray(), count, rows, cols);
    }

    /// <summary>Reads a labels file: u8[N].</summary>
    public static byte[] ReadLabels(string path)
    {
        var bytes = DataFiles.ReadAll(path);
        int count = Header(bytes, path, LabelsMagic, dimensions: 1)[0];
        const int offset = 8;
        if (bytes.Length - offset < count)
            throw new DatasetException(path, $"truncated: header says {count} labels but only {bytes.Length - offset} follow");
        return bytes.AsSpan(offset, count).ToArray();
    }

    private static int[] Header(byte[] bytes, string path, int magic, int dimensions)
    {
        int headerSize = 4 + 4 * dimensions;
        if (bytes.Length >= 4)
        {
            int actual = BinaryPrimitives.ReadInt32BigEndian(bytes);
            if (actual != magic)
            {
                string what = magic == ImagesMagic ? "images" : "labels";
                throw new DatasetException(path, $"wrong magic number {actual}: an IDX {what} file starts with {magic}");
            }
        }
        if (bytes.Length < headerSize)
            throw new DatasetException(path, $"truncated: {bytes.Length} bytes is shorter than the {headerSize}-byte IDX header");
        var dims = new int[dimensions];
        for (int i = 0; i < dimensions; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new DatasetException(path, $"negative dimension {dims[i]} in the IDX header");
        }
        return dims;
    }


    /// <summary>An IDX images file and its labels file as one image set (one channel; labels 0–255).</summary>
    public static ImageData Read(string imagesPath, string labelsPath)
    {
        var (pixels, count, rows, cols) = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != count) throw new DatasetException(labelsPath, $"{labels.Length} labels but {imagesPath} has {count} images");
        var ints = labels.Select(l => (int)l).ToArray();
        // IDX datasets are digit sets: 10 classes, as every release has trained them.
        for (int i = 0; i < ints.Length; i++)
            if (ints[i] > 9) throw new DatasetException(labelsPath, $"label {ints[i]} at index {i} is outside 0–9");
        return new ImageData(count, 1, rows, cols, pixels, null, ints, 10);
    }
}
