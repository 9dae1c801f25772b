using System.Text;
using System.Text.Json;
using Sweep.Core;
using Sweep.Core.Models;

namespace Sweep.Grains.Results;

/// <summary>
/// The store of `sweep run`: a sweep's results are the lines of a JSON-lines file (the run folder's trials.jsonl),
/// appended and flushed to disk as they are stored. Lines already in the file when it is first used (the trials a resumed
/// run keeps) count as stored. De-duplicates by trial id; keeps only ids and line offsets in memory, not the results.
/// </summary>
public sealed class FileResultStore(Func<string, string> pathOf) : ISweepResultStore
{
    private readonly Dictionary<string, SweepFile> _files = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>
    /// The first write that failed for good (a full disk, a read-only or vanished folder, a permission), or null: the
    /// embedded run ends on it (results stored before it stay intact; the failed append is cut off again).
    /// </summary>
    public IOFault? Fault { get; private set; }

    private sealed class SweepFile(string path)
    {
        public string Path { get; } = path;
        public HashSet<string> Ids { get; } = new(StringComparer.Ordinal);
        /// <summary>Byte offset of each stored line, and one past the last line's end.</summary>
        public List<long> Offsets { get; } = [0];
    }

    public Task<bool[]> AppendAsync(string sweepId, IReadOnlyList<IndexedResult> results)
    {
        lock (_lock)
        {
            var file = Open(sweepId);
            var fresh = new bool[results.Count];
            if (results.Count == 0) return Task.FromResult(fresh);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            var offsets = new List<long>();
            long start = file.Offsets[^1];
            try
            {
                // Unbuffered: a write the disk refuses throws here, not later while the stream is disposed.
                using var stream = new FileStream(file.Path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
                long at = stream.Position;
                for (int i = 0; i < results.Count; i++)
                {
                    string id = results[i].Result.TrialId;
                    if (file.Ids.Contains(id) || !ids.Add(id)) continue;
                    var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(results[i].Result, SweepJson.Options) + "\n");
                    stream.Write(line);
                    at += line.Length;
                    offsets.Add(at);
                    fresh[i] = true;
                }
                stream.Flush(flushToDisk: true);
            }
            catch (Exception e)
            {
                _files.Remove(sweepId);   // indexed again on next use (a torn last line is truncated then)
                if (e is IOException or UnauthorizedAccessException)
                {
                    Fault ??= new IOFault(file.Path, e.Message);
                    CutBack(file.Path, start);
                }
                throw;
            }
            // Stored only once on disk.
            file.Ids.UnionWith(ids);
            file.Offsets.AddRange(offsets);
            return Task.FromResult(fresh);
        }
    }

    /// <summary>Cuts a failed append's partial line off again, so the file holds whole stored lines only.</summary>
    private static void CutBack(string path, long length)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            if (stream.Length > length) stream.SetLength(length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // read-only: nothing was written
    }

    public Task<IReadOnlyList<TrialResult>> ReadAsync(string sweepId, long from, int max)
    {
        lock (_lock)
        {
            var file = Open(sweepId);
            int lines = file.Offsets.Count - 1;
            int start = (int)Math.Clamp(from, 0, lines), count = Math.Clamp(max, 0, lines - start);
            if (count == 0) return Task.FromResult<IReadOnlyList<TrialResult>>([]);
            using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Position = file.Offsets[start];
            var buffer = new byte[file.Offsets[start + count] - file.Offsets[start]];
            stream.ReadExactly(buffer);
            var results = new List<TrialResult>(count);
            foreach (var line in Encoding.UTF8.GetString(buffer).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                results.Add(JsonSerializer.Deserialize<TrialResult>(line, SweepJson.Options)!);
            return Task.FromResult<IReadOnlyList<TrialResult>>(results);
        }
    }

    public Task<long> CountAsync(string sweepId)
    {
        lock (_lock) return Task.FromResult((long)Open(sweepId).Offsets.Count - 1);
    }

    public Task DeleteAsync(string sweepId)
    {
        lock (_lock)
        {
            var file = Open(sweepId);
            File.Delete(file.Path);
            _files.Remove(sweepId);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// The sweep's file, indexed on first use. A last line that does not parse (cut short by a kill) is truncated away,
    /// so the next append starts on a line of its own; a bad line before it is an error naming the file and line.
    /// </summary>
    private SweepFile Open(string sweepId)
    {
        if (_files.TryGetValue(sweepId, out var known)) return known;
        var file = new SweepFile(pathOf(sweepId));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file.Path))!);
        if (File.Exists(file.Path))
        {
            using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            using var reader = new StreamReader(stream, new UTF8Encoding(false), false, 1 << 16, leaveOpen: true);
            long at = 0;
            int number = 0;
            while (reader.ReadLine() is { } line)
            {
                number++;
                long next = at + Encoding.UTF8.GetByteCount(line) + 1;
                bool last = next >= stream.Length;
                TrialResult? result = null;
                try { result = line.Length == 0 ? null : JsonSerializer.Deserialize<TrialResult>(line, SweepJson.Options); }
                catch (JsonException) { }
                if (result is null && last) break;   // a line cut short by a kill: truncated below
                if (result is null || !file.Ids.Add(result.TrialId))
                {
                    string what = result is null ? "not a trial result" : "a trial stored twice";
                    throw new InvalidDataException($"{file.Path}: line {number} is {what}");
                }
                if (next > stream.Length)
                {
                    stream.Position = stream.Length;   // a complete last line without its newline
                    stream.WriteByte((byte)'\n');
                }
                at = next;
                file.Offsets.Add(at);
            }
            if (at < stream.Length) stream.SetLength(at);
        }
        _files[sweepId] = file;
        return file;
    }
}

/// <summary>A write that failed for good: the file and the cause as the system said it.</summary>
public sealed record IOFault(string Path, string Cause);
