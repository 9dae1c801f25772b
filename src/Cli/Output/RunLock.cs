namespace Sweep.Cli.Output;

/// <summary>
/// The one `sweep run` a run folder has at a time: an exclusive advisory lock (flock) on DIR/.sweep.lock, held for the
/// process's life, and the holder's pid in DIR/.sweep.pid. The kernel drops the lock when its holder dies, however it
/// dies, so a killed run's folder is taken over at once.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream _lock;

    private RunLock(FileStream stream) => _lock = stream;

    /// <summary>Takes <paramref name="folder"/>, or throws a <see cref="Commands.UsageException"/> naming it and the holder.</summary>
    public static RunLock Take(string folder)
    {
        string path = Path.Combine(folder, ".sweep.lock"), pidPath = Path.Combine(folder, ".sweep.pid");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        // Another process holds the lock: EWOULDBLOCK (11) on Linux, ERROR_SHARING_VIOLATION (32) on Windows.
        catch (IOException e) when (e.HResult == 11 || (e.HResult & 0xFFFF) == 32)
        {
            string holder = File.Exists(pidPath) ? File.ReadAllText(pidPath).Trim() : "";
            if (holder.Length == 0) holder = "unknown";
            throw new Commands.UsageException(
                $"{folder} is in use by another sweep run (pid {holder}); wait for it to end, or give another --out");
        }
        File.WriteAllText(pidPath, $"{Environment.ProcessId}\n");
        return new RunLock(stream);
    }

    public void Dispose() => _lock.Dispose();
}
