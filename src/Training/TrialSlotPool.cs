using Sweep.Core;
using Sweep.Core.Models;
using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Sweep.Core.Telemetry;
using Sweep.Training;
using Sweep.Training.Fusion;
using Sweep.Training.Models;

namespace Sweep.Training;

/// <summary>How a silo trains: how many trials at once, how many threads each, on which device, and where trained models go.</summary>
public sealed class TrialSlotOptions : IValidatedOptions
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
    /// Trial fusion: up to this many compatible trials (same model, data, training, schedule and seed) train together
    /// in one slot as one batched model. A silo offers Slots × FusionWidth trial places. 1 = no fusion.
    /// </summary>
    public int FusionWidth { get; set; } = 4;
    /// <summary>How long a free slot waits for more compatible trials before it starts a smaller group.</summary>
    public TimeSpan FusionLinger { get; set; } = TimeSpan.FromMilliseconds(30);

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
    /// With <see cref="ModelsPerSweep"/> false, the one sweep whose models go straight into ModelsDirectory (the embedded
    /// run's own); any other sweep (one submitted through `--ui`'s API) still gets ModelsDirectory/SWEEP_ID/. Null: every sweep.
    /// </summary>
    public string? FlatSweepId { get; set; }

    /// <summary>The name metrics tag this pool's measurements with (a silo sets its own name).</summary>
    public string PoolName { get; set; } = "local";

    /// <summary>
    /// Where a trial's model is saved (absolute; the sweep id made safe as a folder name), or null when
    /// <see cref="ModelsDirectory"/> is not set.
    /// </summary>
    public string? ModelPath(string sweepId, string trialId)
    {
        if (string.IsNullOrWhiteSpace(ModelsDirectory)) return null;
        bool perSweep = ModelsPerSweep || (FlatSweepId is not null && sweepId != FlatSweepId);
        string folder = perSweep ? Path.Combine(ModelsDirectory, SafeName(sweepId)) : ModelsDirectory;
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
        if (FusionWidth is < 1 or > 256) return $"Sweep:FusionWidth must be in [1, 256], got {FusionWidth}";
        if (FusionLinger < TimeSpan.Zero || FusionLinger > TimeSpan.FromSeconds(10))
            return $"Sweep:FusionLinger must be in [0, 10 s], got {FusionLinger}";
        if ((Device ?? "auto").Trim().ToLowerInvariant() is not ("auto" or "cpu" or "cuda"))
            return $"Sweep:Device must be auto, cpu or cuda, got '{Device}'";
        if (ModelsDirectory is not null)
        {
            if (string.IsNullOrWhiteSpace(ModelsDirectory))
                return "Sweep:ModelsDirectory must not be empty (leave it unset to save no models)";
            try
            {
                if (File.Exists(Path.GetFullPath(ModelsDirectory)))
                    return $"Sweep:ModelsDirectory is a file, not a directory: '{ModelsDirectory}'";
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                return $"Sweep:ModelsDirectory is not a valid path: '{ModelsDirectory}'";
            }
        }
        return null;
    }
}

/// <summary>
/// The silo's bounded training slots. Each slot is a training thread with its own device (cuda:i for slot i on a GPU
/// silo) and thread budget; it trains groups of up to FusionWidth compatible trials fused into one batched model
/// (<see cref="FusedTraining"/>), or one trial at a time for models that do not fuse. The silo offers
/// <see cref="Capacity"/> = slots × fusion width trial places: what placement and coordinators count.
/// </summary>
public sealed class TrialSlotPool : IDisposable
{
    private readonly SemaphoreSlim _places;
    private readonly Dictionary<string, int> _busyBySweep = new();
    private readonly Lock _lock = new();
    private readonly LinkedList<Pending> _queue = new();
    private readonly SemaphoreSlim _queued = new(0);
    private readonly string[] _devices;
    private readonly Thread[] _workers;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger<TrialSlotPool> _logger;

    /// <summary>Trial places: slots × fusion width.</summary>
    public int Capacity { get; }
    /// <summary>Training slots (threads of training).</summary>
    public int Slots { get; }
    public int FusionWidth { get; }
    /// <summary>The models whose trials this pool trains fused (none when the fusion width is 1).</summary>
    public IReadOnlyList<string> FusingModels => FusionWidth > 1 ? ModelFamilies.Fusing : [];
    public TimeSpan FusionLinger { get; }
    public int ThreadsPerSlot { get; }
    public string DeviceKind { get; }
    public int Free => _places.CurrentCount;
    public int Busy => Capacity - Free;
    private long _arrived;
    private int _waiting;
    /// <summary>Trials that ever asked this pool for a place (placement counts its own placements as arrived by it).</summary>
    public long Arrived => Interlocked.Read(ref _arrived);
    /// <summary>Trials waiting for a place.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    // Every pool of this process (a test cluster hosts several silos in one), observed by one gauge each.
    private static readonly ConcurrentDictionary<TrialSlotPool, string> Pools = new();
    private static readonly ObservableGauge<double> Utilization = SweepTelemetry.Meter.CreateObservableGauge(
        "sweep.slots.utilization",
        () => Pools.Select(p => new Measurement<double>(p.Key.Capacity == 0 ? 0 : (double)p.Key.Busy / p.Key.Capacity,
            new KeyValuePair<string, object?>("silo", p.Value))),
        "1", "Busy trial places / all trial places, per silo");
    private static readonly ObservableGauge<int> CapacityGauge = SweepTelemetry.Meter.CreateObservableGauge(
        "sweep.slots.capacity",
        () => Pools.Select(p => new Measurement<int>(p.Key.Capacity, new KeyValuePair<string, object?>("silo", p.Value))),
        "{place}", "Trial places per silo (training slots × fusion width)");
    private static readonly Histogram<int> GroupSize = SweepTelemetry.Meter.CreateHistogram<int>(
        "sweep.fusion.group_size", "{trial}", "Trials trained together in one fused group");

    private sealed record Pending(TrialSettings Settings, string? Key, string SweepId, Action<EpochRecord>? OnEpoch,
        CancellationToken Cancellation, TaskCompletionSource<TrialReport> Done, long Enqueued, string? SaveModelPath);

    public TrialSlotPool(IOptions<TrialSlotOptions> options, ILogger<TrialSlotPool> logger)
    {
        _logger = logger;
        var o = options.Value;
        if (o.Validate() is { } problem)
            throw new OptionsValidationException(nameof(TrialSlotOptions), typeof(TrialSlotOptions), [problem]);
        string device = (o.Device ?? "auto").Trim().ToLowerInvariant();
        int gpus = device == "cpu" ? 0 : TrainingDevice.CudaDeviceCount();
        if (device == "cuda" && gpus == 0)
            throw new OptionsValidationException(nameof(TrialSlotOptions), typeof(TrialSlotOptions),
                ["Sweep:Device is cuda but TorchSharp reports no CUDA device"]);
        if (gpus > 0)
        {
            Slots = o.Slots ?? gpus * o.TrialsPerGpu;
            _devices = Enumerable.Range(0, Slots).Select(i => $"cuda:{i % gpus}").ToArray();
            ThreadsPerSlot = o.ThreadsPerSlot > 0 ? o.ThreadsPerSlot : 1;
            DeviceKind = "cuda";
        }
        else
        {
            int cores = Environment.ProcessorCount;
            Slots = o.Slots ?? cores;
            ThreadsPerSlot = o.ThreadsPerSlot > 0 ? o.ThreadsPerSlot : Math.Max(1, cores / Math.Max(1, Slots));
            _devices = Enumerable.Repeat("cpu", Slots).ToArray();
            DeviceKind = "cpu";
        }
        FusionWidth = o.FusionWidth;
        FusionLinger = o.FusionLinger;
        Capacity = Slots * FusionWidth;
        // A silo without slots never grants a place; placement keeps trials away from it.
        _places = new SemaphoreSlim(Capacity, Math.Max(1, Capacity));
        _workers = Enumerable.Range(0, Slots)
            .Select(i => new Thread(() => Work(i)) { IsBackground = true, Name = $"sweep-slot-{i}" }).ToArray();
        foreach (var w in _workers) w.Start();
        logger.LogInformation("Training slots: {Slots} on {Device}, {Threads} thread(s) each, fusing up to {Width} trial(s) per slot",
            Slots, DeviceKind, ThreadsPerSlot, FusionWidth);
        Pools[this] = o.PoolName;
    }

    /// <summary>
    /// Trains one trial of <paramref name="sweepId"/>: waits for a trial place, then for a slot, where it may train
    /// fused with other compatible trials. Completes with the trial's report, or faults as <see cref="TrialRunner.Run"/>
    /// would (divergence, cancellation, bad settings). <paramref name="onEpoch"/> runs on the training thread; with
    /// <paramref name="saveModelPath"/>, the trained model is saved there (<see cref="ModelFile"/>).
    /// </summary>
    public async Task<TrialReport> TrainAsync(TrialSettings settings, string sweepId, Action<EpochRecord>? onEpoch,
        CancellationToken cancellationToken, string? saveModelPath = null)
    {
        // ConfigureAwait(false): the pool's bookkeeping must not depend on the calling grain's scheduler. A grain
        // activation that is gone (deactivated mid-wait, e.g. a duplicate after a silo's directory partition was lost)
        // never runs continuations queued to it, and a place released there would leak for good.
        Interlocked.Increment(ref _waiting);
        Interlocked.Increment(ref _arrived);
        try { await _places.WaitAsync(cancellationToken).ConfigureAwait(false); }
        finally { Interlocked.Decrement(ref _waiting); }
        lock (_lock) _busyBySweep[sweepId] = _busyBySweep.GetValueOrDefault(sweepId) + 1;
        try
        {
            var done = new TaskCompletionSource<TrialReport>(TaskCreationOptions.RunContinuationsAsynchronously);
            var pending = new Pending(settings, FusionWidth > 1 ? FusedTraining.Key(settings) : null, sweepId, onEpoch, cancellationToken,
                done, System.Diagnostics.Stopwatch.GetTimestamp(), saveModelPath);
            LinkedListNode<Pending> node;
            lock (_lock) node = _queue.AddLast(pending);
            _queued.Release();
            // A trial cancelled while it still waits for a slot leaves the queue at once.
            using var reg = cancellationToken.Register(() =>
            {
                bool removed;
                lock (_lock) { removed = node.List is not null; if (removed) _queue.Remove(node); }
                if (removed) done.TrySetCanceled(cancellationToken);
            });
            return await done.Task.ConfigureAwait(false);
        }
        finally
        {
            lock (_lock) { if (--_busyBySweep[sweepId] == 0) _busyBySweep.Remove(sweepId); }
            _places.Release();
        }
    }

    /// <summary>Busy trial places per sweep: a coordinator subtracts only other sweeps' use from the cluster's places.</summary>
    public IReadOnlyDictionary<string, int> BusyBySweep()
    {
        lock (_lock) return new Dictionary<string, int>(_busyBySweep);
    }

    private void Work(int slot)
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try { _queued.Wait(token); }
            catch (OperationCanceledException) { return; }
            var group = TakeGroup(token);
            if (group.Count == 0) continue;
            GroupSize.Record(group.Count);
            Train(group, _devices[slot]);
        }
    }

    /// <summary>
    /// Takes the oldest waiting trial and the compatible trials behind it (at most FusionWidth), lingering briefly so a
    /// burst of submissions fuses. Each taken trial beyond the first consumes one queue signal.
    /// </summary>
    private List<Pending> TakeGroup(CancellationToken token)
    {
        Pending? head;
        lock (_lock) head = _queue.First?.Value;
        if (head is null) return [];
        if (head.Key is not null && FusionWidth > 1)
        {
            long lingerUntil = head.Enqueued + (long)(FusionLinger.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            while (System.Diagnostics.Stopwatch.GetTimestamp() < lingerUntil && CountCompatible(head.Key) < FusionWidth
                && !token.IsCancellationRequested)
                Thread.Sleep(2);
        }
        var group = new List<Pending>();
        lock (_lock)
        {
            var first = _queue.First;
            if (first is null) return group;
            string? key = first.Value.Key;
            for (var node = first; node is not null && group.Count < (key is null ? 1 : FusionWidth);)
            {
                var next = node.Next;
                if (node == first || (key is not null && node.Value.Key == key))
                {
                    group.Add(node.Value);
                    _queue.Remove(node);
                }
                node = next;
            }
        }
        // This worker was woken by one signal; the other trials it took must not wake another worker.
        for (int i = 1; i < group.Count; i++) _queued.Wait(0);
        return group;
    }

    private int CountCompatible(string key)
    {
        lock (_lock) return _queue.Count(p => p.Key == key);
    }

    private void Train(List<Pending> group, string device)
    {
        var options = new TrainingOptions(device, ThreadsPerSlot);
        try
        {
            if (group.Count == 1 && group[0].Key is null)
            {
                var p = group[0];
                p.Done.TrySetResult(
                    TrialRunner.Run(p.Settings, options with { SaveModelPath = p.SaveModelPath }, p.OnEpoch, p.Cancellation));
                return;
            }
            var outcomes = FusedTraining.Run(
                group.Select(p => new FusedTrial(p.Settings, p.OnEpoch, p.Cancellation, p.SaveModelPath)).ToArray(), options);
            for (int i = 0; i < group.Count; i++)
            {
                var (report, error) = (outcomes[i].Report, outcomes[i].Error);
                if (report is not null) group[i].Done.TrySetResult(report);
                else if (error is OperationCanceledException) group[i].Done.TrySetCanceled(group[i].Cancellation);
                else group[i].Done.TrySetException(error!);
            }
        }
        catch (OperationCanceledException) when (group.Count == 1)
        {
            group[0].Done.TrySetCanceled(group[0].Cancellation);
        }
        catch (Exception e)
        {
            _logger.LogWarning("A training group of {Count} trial(s) failed: {Reason}", group.Count, e.Message);
            foreach (var p in group) p.Done.TrySetException(e);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        Pools.TryRemove(this, out _);
    }
}
