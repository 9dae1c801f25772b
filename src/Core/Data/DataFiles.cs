using System.IO.Compression;

namespace Sweep.Core.Data;

/// <summary>Reading dataset files: whole, gunzipped when they are gzip, with one clear error per problem.</summary>
public static class DataFiles
{
    /// <summary>The file's bytes (decompressed when it starts with the gzip magic).</summary>
    /// <exception cref="DatasetException">Missing, a directory, unreadable, or corrupt gzip.</exception>
    public static byte[] ReadAll(string path)
    {
        if (Directory.Exists(path)) throw new DatasetException(path, "is a directory, not a file");
        if (!File.Exists(path)) throw new DatasetException(path, "file not found");
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> probe = stackalloc byte[2];
            int read = file.Read(probe);
            file.Position = 0;
            bool gzip = read == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
            using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            return memory.ToArray();
        }
        catch (InvalidDataException e) { throw new DatasetException(path, $"corrupt gzip data ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new DatasetException(path, "cannot read (permission denied)", e); }
        catch (IOException e) { throw new DatasetException(path, $"cannot read ({e.Message})", e); }
    }

    /// <summary>The number of classes labels come from: the largest label + 1.</summary>
    public static int Classes(IReadOnlyList<int> labels) => labels.Count == 0 ? 1 : labels.Max() + 1;
}
