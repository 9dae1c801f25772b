using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Sweep.Grains.Telemetry;
using Sweep.Training;

namespace Sweep.Grains.Slots;

/// <summary>How a silo trains: how many trials at once, how many threads each, on which device, and where trained models go.</summary>
public sealed class TrialSlotOptions
{
    /// <summary>Training slots; null = one per GPU (× TrialsPerGpu), or one per core on the CPU; 0 = this silo trains nothing.</summary>
    public int? Slots { get; set; }
    /// <summary>Intra-op threads per trial on the CPU; 0 = cores / slots.</summary>
    public int ThreadsPerSlot { get; set; }
    /// <summary>Trials sharing one GPU.</summary>
    public int TrialsPerGpu { get; set; } = 1;
    /// <summary>"auto" (CUDA when available), "cpu" or "cuda".</summary>
    public string Device { get; set; } = "auto";
    /// <summary>
    /// Where trials of sweeps with "saveModels" save their trained models (on Kubernetes, a volume every silo shares);
    /// null = this silo saves none (such trials still complete, their result says why no model was saved).
    /// </summary>
    public string? ModelsDirectory { get; set; }
    /// <summary>
    /// true (default): ModelsDirectory/SWEEP_ID/TRIAL_ID.pt, as one directory serves every sweep of a cluster;
    /// false: ModelsDirectory/TRIAL_ID.pt (the embedded run, whose output folder holds one sweep).
    /// </summary>
    public bool ModelsPerSweep { get; set; } = true;

    /// <summary>
    /// Where a trial's model is saved (absolute; the sweep id made safe as a folder name), or null when
    /// <see cref="ModelsDirectory"/> is not set.
    /// </summary>
    public string? ModelPath(string sweepId, string trialId)
    {
        if (string.IsNullOrWhiteSpace(ModelsDirectory)) return null;
        string folder = ModelsPerSweep ? Path.Combine(ModelsDirectory, SafeName(sweepId)) : ModelsDirectory;
        return Path.GetFullPath(Path.Combine(folder, SafeName(trialId) + ".pt"));
    }

    // Ids come from clients: anything but letters, digits, '.', '_' and '-' becomes '_', and no name is "." or "..".
    private static string SafeName(string id)
    {
        var safe = new string(id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray());
        return safe.Length == 0 || safe.All(c => c == '.') ? "_" + safe : safe;
    }

    /// <summary>Null when valid, else the first problem, naming the setting.</summary>
    public string? Validate()
    {
        if (Slots is < 0) return $"Sweep:Slots must be ≥ 0, got {Slots}";
        if (ThreadsPerSlot < 0) return $"Sweep:ThreadsPerSlot must be ≥ 0, got {ThreadsPerSlot}";
        if (TrialsPerGpu < 1) return $"Sweep:TrialsPerGpu must be ≥ 1, got {TrialsPerGpu}";
        if ((Device ?? "auto").Trim().ToLowerInvariant() is not ("auto" or "cpu" or "cuda")) return $"Sweep:Device must be auto, cpu or cuda, got '{Device}'";
        if (ModelsDirectory is not null)
        {
            if (string.IsNullOrWhiteSpace(ModelsDirectory)) return "Sweep:ModelsDirectory must not be empty (leave it unset to save no models)";
            try { if (File.Exists(Path.GetFullPath(ModelsDirectory))) return $"Sweep:ModelsDirectory is a file, not a directory: '{ModelsDirectory}'"; }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                return $"Sweep:ModelsDirectory is not a valid path: '{ModelsDirectory}'";
            }
        }
        return null;
    }
}

/// <summary>A granted slot: the device and thread budget of one running trial. Dispose to give it back.</summary>
public sealed class TrialSlot(TrialSlotPool pool, int index, string device, int threads, string sweepId) : IDisposable
{
    private int _released;
    public int Index { get; } = index;
    public string SweepId { get; } = sweepId;
    public string Device { get; } = device;
    public int Threads { get; } = threads;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) pool.Release(this);
    }
}

/// <summary>
/// The silo's bounded training slots. A trial waits here for a slot, then trains on that slot's device
/// (cuda:i for slot i on a GPU silo) with that slot's thread budget, off the Orleans scheduler.
/// </summary>
public sealed class TrialSlotPool
{
    private readonly SemaphoreSlim _free;
    private readonly Stack<int> _indices;
    private readonly Dictionary<string, int> _busyBySweep = new();
    private readonly Lock _lock = new();
    private readonly string[] _devices;

    public int Capacity { get; }
    public int ThreadsPerSlot { get; }
    public string DeviceKind { get; }
    public int Free => _free.CurrentCount;
    public int Busy => Capacity - Free;

    // Every pool of this process (a test cluster hosts several silos in one), observed by one gauge each.
    private static readonly ConcurrentDictionary<TrialSlotPool, string> Pools = new();
    private static readonly ObservableGauge<double> Utilization = SweepTelemetry.Meter.CreateObservableGauge(
        "sweep.slots.utilization", () => Pools.Select(p => new Measurement<double>(p.Key.Capacity == 0 ? 0 : (double)p.Key.Busy / p.Key.Capacity, new KeyValuePair<string, object?>("silo", p.Value))),
        "1", "Busy training slots / all training slots, per silo");
    private static readonly ObservableGauge<int> CapacityGauge = SweepTelemetry.Meter.CreateObservableGauge(
        "sweep.slots.capacity", () => Pools.Select(p => new Measurement<int>(p.Key.Capacity, new KeyValuePair<string, object?>("silo", p.Value))),
        "{slot}", "Training slots per silo");

    public TrialSlotPool(IOptions<TrialSlotOptions> options, ILogger<TrialSlotPool> logger, ILocalSiloDetails? silo = null)
    {
        var o = options.Value;
        if (o.Validate() is { } problem) throw new OptionsValidationException(nameof(TrialSlotOptions), typeof(TrialSlotOptions), [problem]);
        string device = (o.Device ?? "auto").Trim().ToLowerInvariant();
        int gpus = device == "cpu" ? 0 : TrainingDevice.CudaDeviceCount();
        if (device == "cuda" && gpus == 0)
            throw new OptionsValidationException(nameof(TrialSlotOptions), typeof(TrialSlotOptions), ["Sweep:Device is cuda but TorchSharp reports no CUDA device"]);
        if (gpus > 0)
        {
            Capacity = o.Slots ?? gpus * o.TrialsPerGpu;
            _devices = Enumerable.Range(0, Capacity).Select(i => $"cuda:{i % gpus}").ToArray();
            ThreadsPerSlot = o.ThreadsPerSlot > 0 ? o.ThreadsPerSlot : 1;
            DeviceKind = "cuda";
        }
        else
        {
            int cores = Environment.ProcessorCount;
            Capacity = o.Slots ?? cores;
            ThreadsPerSlot = o.ThreadsPerSlot > 0 ? o.ThreadsPerSlot : Math.Max(1, cores / Math.Max(1, Capacity));
            _devices = Enumerable.Repeat("cpu", Capacity).ToArray();
            DeviceKind = "cpu";
        }
        // A silo without slots never grants one; placement keeps trials away from it.
        _free = new SemaphoreSlim(Capacity, Math.Max(1, Capacity));
        _indices = new Stack<int>(Enumerable.Range(0, Capacity).Reverse());
        logger.LogInformation("Training slots: {Slots} on {Device}, {Threads} thread(s) each", Capacity, DeviceKind, ThreadsPerSlot);
        Pools[this] = silo?.Name ?? "local";
    }

    /// <summary>Waits for a free slot, to train a trial of <paramref name="sweepId"/>.</summary>
    public async Task<TrialSlot> AcquireAsync(string sweepId, CancellationToken cancellationToken)
    {
        await _free.WaitAsync(cancellationToken);
        int index;
        lock (_lock)
        {
            index = _indices.Pop();
            _busyBySweep[sweepId] = _busyBySweep.GetValueOrDefault(sweepId) + 1;
        }
        return new TrialSlot(this, index, _devices[index], ThreadsPerSlot, sweepId);
    }

    /// <summary>Busy slots per sweep: a coordinator subtracts only other sweeps' use from the cluster's slots.</summary>
    public IReadOnlyDictionary<string, int> BusyBySweep()
    {
        lock (_lock) return new Dictionary<string, int>(_busyBySweep);
    }

    internal void Release(TrialSlot slot)
    {
        lock (_lock)
        {
            _indices.Push(slot.Index);
            if (--_busyBySweep[slot.SweepId] == 0) _busyBySweep.Remove(slot.SweepId);
        }
        _free.Release();
    }
}
