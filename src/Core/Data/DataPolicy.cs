using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Sweep.Core.Data;

/// <summary>
/// Which dataset files a process may read, and how much of them: on a cluster silo, only regular files under the
/// operator's data roots (Sweep:DataRoots, symbolic links resolved), each at most <see cref="MaxBytes"/> on disk and
/// after gunzip. The embedded silo of `sweep run` and the command line read any regular file of the user's.
/// The built-in dataset is always readable. One policy per process (<see cref="Current"/>), set by the host at start.
/// </summary>
public sealed class DataPolicy
{
    /// <summary>The default cap: 2 GiB, the most a .NET array holds, so nothing a run could read before is refused.</summary>
    public const long DefaultMaxBytes = 2L << 30;

    private readonly string[]? _roots;

    /// <param name="roots">Folders dataset files must lie in (their real paths); null = any folder.</param>
    /// <param name="maxBytes">The most bytes a dataset file may hold, on disk and decompressed.</param>
    public DataPolicy(IEnumerable<string>? roots = null, long maxBytes = DefaultMaxBytes)
    {
        if (maxBytes < 1) throw new ArgumentException($"Sweep:MaxDatasetBytes must be positive, got {maxBytes}");
        MaxBytes = maxBytes;
        _roots = roots?.Select(r => RealDirectory(r)).ToArray();
    }

    private static DataPolicy _process = new();
    private static readonly AsyncLocal<DataPolicy?> Scoped = new();

    /// <summary>
    /// The policy dataset reading follows: this flow's (<see cref="Use"/>), else the process's, which setting replaces
    /// (default: any regular file, 2 GiB).
    /// </summary>
    public static DataPolicy Current
    {
        get => Scoped.Value ?? _process;
        set => _process = value;
    }

    /// <summary>Until disposed, this flow alone (a test beside others) follows <paramref name="policy"/>.</summary>
    public static IDisposable Use(DataPolicy policy)
    {
        var before = Scoped.Value;
        Scoped.Value = policy;
        return new Restore(before);
    }

    private sealed class Restore(DataPolicy? before) : IDisposable
    {
        public void Dispose() => Scoped.Value = before;
    }

    public long MaxBytes { get; }

    /// <summary>The data roots (real paths), or null when any folder is allowed.</summary>
    public IReadOnlyList<string>? Roots => _roots;

    /// <summary>
    /// The real path of a dataset file this policy allows to read; otherwise a <see cref="DatasetRefusedException"/>
    /// naming the path as given. A path outside the roots is refused before anything about it is looked up, so the
    /// refusal tells nothing of whether it exists.
    /// </summary>
    public string Check(string path)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new DatasetRefusedException(path, "is not a valid path");
        }
        if (_roots is not null && !Under(full) && !BuiltIn(full)) throw OutsideRoots(path);
        string? real = RealPath(full);
        if (real is null)
        {
            if (Directory.Exists(full)) throw new DatasetException(path, "is a directory, not a file");
            throw new DatasetException(path, "file not found");
        }
        // A symbolic link inside a root may point anywhere: the real path must be inside too.
        if (_roots is not null && !Under(real) && !BuiltIn(real)) throw OutsideRoots(path);
        var (kind, size) = Stat(real);
        if (kind == FileKind.Directory) throw new DatasetException(path, "is a directory, not a file");
        if (kind != FileKind.Regular)
            throw new DatasetRefusedException(path, "is not a regular file (a device, pipe or socket is never read)");
        if (size > MaxBytes) throw TooLarge(path, $"is {size} bytes");
        return real;
    }

    /// <summary>
    /// Checks the file (<see cref="Check"/>) and, when it is gzip, that it decompresses to at most <see cref="MaxBytes"/>
    /// (streamed through, nothing kept: a gzip bomb costs CPU up to the cap, not memory).
    /// </summary>
    public void Probe(string path)
    {
        string real = Check(path);
        using var file = OpenRead(path, real);
        if (!IsGzip(file)) return;
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        try
        {
            for (int n; (n = gzip.Read(buffer)) > 0;)
                if ((total += n) > MaxBytes) throw TooLarge(path, "decompresses to more");
        }
        catch (InvalidDataException e) { throw new DatasetException(path, $"corrupt gzip data ({e.Message})", e); }
    }

    /// <summary>The file's bytes (gunzipped when it is gzip), within the policy.</summary>
    public byte[] ReadAll(string path)
    {
        string real = Check(path);
        try
        {
            using var file = OpenRead(path, real);
            bool gzip = IsGzip(file);
            using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            using var memory = new MemoryStream();
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = stream.Read(buffer)) > 0;)
            {
                if (memory.Length + n > MaxBytes) throw TooLarge(path, gzip ? "decompresses to more" : "holds more");
                memory.Write(buffer, 0, n);
            }
            return memory.ToArray();
        }
        catch (InvalidDataException e) { throw new DatasetException(path, $"corrupt gzip data ({e.Message})", e); }
    }

    private static FileStream OpenRead(string path, string real)
    {
        try { return File.OpenRead(real); }
        catch (UnauthorizedAccessException e) { throw new DatasetException(path, "cannot read (permission denied)", e); }
        catch (IOException e) { throw new DatasetException(path, $"cannot read ({e.Message})", e); }
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> probe = stackalloc byte[2];
        int read = file.Read(probe);
        file.Position = 0;
        return read == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
    }

    /// <summary>
    /// Null when a client may learn anything about <paramref name="full"/> (no roots, or inside a root both as written and
    /// by real path), else the refusal: the same words whether the path exists or not, so no answer about a path
    /// outside the roots (not found, a directory, a file) tells that it exists. Looks nothing up outside the roots.
    /// </summary>
    public string? Refusal(string full)
    {
        if (_roots is null) return null;
        if (!Under(full) && !BuiltIn(full)) return OutsideRootsReason;
        return RealPath(full) is { } real && !Under(real) && !BuiltIn(real) ? OutsideRootsReason : null;
    }

    private DatasetRefusedException TooLarge(string path, string what) =>
        new(path, $"{what} than this silo's limit of {MaxBytes} bytes (Sweep:MaxDatasetBytes)");

    private const string OutsideRootsReason =
        "is outside this cluster's data roots (Sweep:DataRoots); ask its operator where datasets go";

    private static DatasetRefusedException OutsideRoots(string path) => new(path, OutsideRootsReason);

    private bool Under(string full) => _roots!.Any(root => IsUnder(full, root));

    private static bool IsUnder(string full, string root) =>
        full.Length > root.Length && full.StartsWith(root, StringComparison.Ordinal)
        && (root.EndsWith('/') || full[root.Length] == '/');

    // The built-in dataset's folder, where it exists: always readable (the silo itself chose it).
    private static bool BuiltIn(string full)
    {
        string dir;
        try { dir = DataDirectory.Find(Models.DatasetRef.Mnist10k.Name!); }
        catch (DatasetException) { return false; }
        return IsUnder(full, RealPath(dir) ?? dir);
    }

    private static string RealDirectory(string root)
    {
        if (string.IsNullOrWhiteSpace(root)) throw new ArgumentException("Sweep:DataRoots: an entry is empty");
        string full = Path.GetFullPath(root);
        return RealPath(full) is { } real && Directory.Exists(real)
            ? real
            : throw new ArgumentException($"Sweep:DataRoots: '{root}' is not a folder");
    }

    /// <summary>The canonical absolute path (every symbolic link resolved), or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return File.Exists(path) || Directory.Exists(path) ? Path.GetFullPath(path) : null;
        IntPtr resolved = NativeFiles.realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { NativeFiles.free(resolved); }
    }

    private enum FileKind { Regular, Directory, Other }

    // .NET's own native shim (libSystem.Native, part of every runtime) fills a FileStatus whose second int is the mode
    // (S_IFMT bits as on Linux) and whose fifth 8-byte field is the size; its layout does not vary by architecture.
    private static (FileKind Kind, long Size) Stat(string real)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return File.Exists(real) ? (FileKind.Regular, new FileInfo(real).Length) : (FileKind.Directory, 0);
        Span<byte> status = stackalloc byte[256];
        if (NativeFiles.SystemNative_Stat(real, ref MemoryMarshal.GetReference(status)) != 0)
            throw new DatasetException(real, "cannot read (stat failed)");
        int mode = BitConverter.ToInt32(status[4..]);
        long size = BitConverter.ToInt64(status[16..]);
        return (mode & 0xF000) switch
        {
            0x8000 => (FileKind.Regular, size),
            0x4000 => (FileKind.Directory, size),
            _ => (FileKind.Other, size),
        };
    }

    private static class NativeFiles
    {
        [DllImport("libc", SetLastError = true)]
        internal static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

        [DllImport("libc")]
        internal static extern void free(IntPtr pointer);

        [DllImport("libSystem.Native", SetLastError = true)]
        internal static extern int SystemNative_Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref byte status);
    }
}

/// <summary>A dataset file the policy refuses (outside the data roots, not a regular file, too large): never retried.</summary>
public sealed class DatasetRefusedException(string path, string message) : DatasetException(path, message);
