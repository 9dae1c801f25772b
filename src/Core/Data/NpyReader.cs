using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sweep.Core.Data;

/// <summary>
/// Reads NumPy <c>.npy</c> files (format versions 1–3, C order): images as uint8 (scaled to [0, 1] when used) or float32
/// (used as they are), shaped [N, H, W] (one channel), [N, C, H, W] (channels first: the second dimension is 1, 3 or 4)
/// or [N, H, W, C] (channels last: otherwise, when the last dimension is 1, 3 or 4); labels as a 1-d array of any
/// integer type.
/// </summary>
public static partial class NpyReader
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>
    /// An array's header: its element type (NumPy's descr, e.g. "|u1", "&lt;f4") and shape; data starts at <c>Offset</c>.
    /// </summary>
    public sealed record Header(string Descr, long[] Shape, int Offset);

    public static ImageData ReadImages(string imagesPath, string labelsPath)
    {
        byte[] bytes = DataFiles.ReadAll(imagesPath);
        var header = ReadHeader(bytes, imagesPath);
        var shape = header.Shape;
        int n, c, h, w;
        bool channelsLast = false;
        switch (shape.Length)
        {
            case 3: (n, c, h, w) = (Int(shape[0], imagesPath), 1, Int(shape[1], imagesPath), Int(shape[2], imagesPath)); break;
            case 4 when shape[1] is 1 or 3 or 4:
                (n, c, h, w) = (Int(shape[0], imagesPath), Int(shape[1], imagesPath), Int(shape[2], imagesPath), Int(shape[3], imagesPath));
                break;
            case 4 when shape[3] is 1 or 3 or 4:
                (n, h, w, c) = (Int(shape[0], imagesPath), Int(shape[1], imagesPath), Int(shape[2], imagesPath), Int(shape[3], imagesPath));
                channelsLast = true;
                break;
            default:
                throw new DatasetException(imagesPath,
                    $"shape ({string.Join(", ", shape)}) is not images: give [N, H, W], [N, C, H, W] or [N, H, W, C] with C of 1, 3 or 4");
        }
        long values = (long)n * c * h * w;
        if (values > Array.MaxLength / 4)
            throw new DatasetException(imagesPath, $"shape ({string.Join(", ", shape)}) is too large to load ({values} values)");
        int size = header.Descr switch
        {
            "|u1" or "<u1" => 1,
            "<f4" => 4,
            _ => throw new DatasetException(imagesPath, $"element type '{header.Descr}' is not uint8 or little-endian float32"),
        };
        if (bytes.LongLength - header.Offset < values * size)
            throw new DatasetException(imagesPath,
                $"truncated: shape ({string.Join(", ", shape)}) needs {values * size} bytes of data, "
                + $"{bytes.LongLength - header.Offset} follow");
        byte[]? pixels = null;
        float[]? floats = null;
        if (size == 1) pixels = bytes.AsSpan(header.Offset, (int)values).ToArray();
        else
        {
            floats = new float[values];
            for (long i = 0; i < values; i++)
                floats[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(header.Offset + 4 * i), 4));
        }
        if (channelsLast) (pixels, floats) = (ToChannelsFirst(pixels, n, h, w, c), ToChannelsFirst(floats, n, h, w, c));
        var labels = ReadLabels(labelsPath);
        if (labels.Length != n) throw new DatasetException(labelsPath, $"{labels.Length} labels but {imagesPath} has {n} images");
        return new ImageData(n, c, h, w, pixels, floats, labels, DataFiles.Classes(labels));
    }

    /// <summary>A 1-d array of integers (any width, either sign), as ints.</summary>
    public static int[] ReadLabels(string path)
    {
        byte[] bytes = DataFiles.ReadAll(path);
        var header = ReadHeader(bytes, path);
        if (header.Shape.Length != 1)
            throw new DatasetException(path, $"labels must be a 1-d array, got shape ({string.Join(", ", header.Shape)})");
        int n = Int(header.Shape[0], path);
        if (header.Descr.Length < 2) throw new DatasetException(path, $"element type '{header.Descr}' is not an integer type");
        int size = header.Descr[1..] is "u1" or "i1" ? 1 : header.Descr[1..] is "u2" or "i2" ? 2
            : header.Descr[1..] is "u4" or "i4" ? 4 : header.Descr[1..] is "u8" or "i8" ? 8 : 0;
        if (size == 0 || (size > 1 && header.Descr[0] == '>'))
            throw new DatasetException(path, $"element type '{header.Descr}' is not a little-endian integer type");
        if (bytes.LongLength - header.Offset < (long)n * size)
            throw new DatasetException(path,
                $"truncated: {n} labels need {(long)n * size} bytes of data, {bytes.LongLength - header.Offset} follow");
        bool signed = header.Descr[1] == 'i';
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            var at = bytes.AsSpan(header.Offset + i * size, size);
            long v = size switch
            {
                1 => signed ? (sbyte)at[0] : at[0],
                2 => signed ? BinaryPrimitives.ReadInt16LittleEndian(at) : BinaryPrimitives.ReadUInt16LittleEndian(at),
                4 => signed ? BinaryPrimitives.ReadInt32LittleEndian(at) : BinaryPrimitives.ReadUInt32LittleEndian(at),
                _ => BinaryPrimitives.ReadInt64LittleEndian(at),
            };
            if (v is < 0 or > 65_535) throw new DatasetException(path, $"label {v} at index {i} is outside 0–65535");
            labels[i] = (int)v;
        }
        return labels;
    }

    /// <summary>Parses the magic, version and header dictionary.</summary>
    public static Header ReadHeader(byte[] bytes, string path)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new DatasetException(path, "not a NumPy .npy file (no \\x93NUMPY magic)");
        int major = bytes[6];
        int length, start;
        if (major == 1) (length, start) = (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)), 10);
        else if (major is 2 or 3 && bytes.Length >= 12)
            (length, start) = ((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), 12);
        else throw new DatasetException(path, $"unsupported .npy format version {major}");
        if (length < 0 || bytes.Length - start < length) throw new DatasetException(path, "truncated: the .npy header is cut short");
        string text = Encoding.Latin1.GetString(bytes, start, length);
        var descr = Descr().Match(text);
        var fortran = Fortran().Match(text);
        var shape = Shape().Match(text);
        if (!descr.Success || !fortran.Success || !shape.Success) throw new DatasetException(path, $"unreadable .npy header {text.Trim()}");
        if (fortran.Groups[1].Value == "True")
            throw new DatasetException(path, "Fortran-ordered arrays are not supported (save with C order)");
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
                ? v : throw new DatasetException(path, $"unreadable shape ({shape.Groups[1].Value})"))
            .ToArray();
        return new Header(descr.Groups[1].Value, dims, start + length);
    }

    private static int Int(long v, string path) =>
        v <= int.MaxValue ? (int)v : throw new DatasetException(path, $"dimension {v} is too large");

    private static T[]? ToChannelsFirst<T>(T[]? hwc, int n, int h, int w, int c)
    {
        if (hwc is null) return null;
        var chw = new T[hwc.Length];
        int plane = h * w, per = plane * c;
        for (int s = 0; s < n; s++)
            for (int p = 0; p < plane; p++)
                for (int ch = 0; ch < c; ch++)
                    chw[(long)s * per + ch * plane + p] = hwc[(long)s * per + p * c + ch];
        return chw;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex Descr();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex Fortran();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex Shape();
}
