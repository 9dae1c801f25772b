using System.Text;
using System.Text.Json;
using Sweep.Client;
using Sweep.Core;
using Sweep.Core.Models;
using Sweep.Core.Pareto;

namespace Sweep.Api;

/// <summary>A finished trial as the dashboard and the events stream carry it: the result without epochs and layers.</summary>
public sealed record TrialRow(
    long Position, string TrialId, TrialStatus Status, TrialParameters Params, double? Accuracy, double? WeightSparsity,
    double? NodeSparsity, double Seconds, string Silo, string? Error);

/// <summary>A whole-sweep /points answer and what it was made from.</summary>
internal sealed record PointsAnswer(int Count, long Version, FrontReport? Front, byte[] Bytes);

/// <summary>The hypervolume of both fronts after the first <see cref="Done"/> finished trials (in stored order).</summary>
public readonly record struct HypervolumePoint(long Done, double Hypervolume, double NodeHypervolume);

/// <summary>
/// One sweep as this API host sees it: its status, and every finished trial as a <see cref="TrialRow"/> in the order the
/// sweep's store holds them, read incrementally (only what is new) and shared by every request and watcher. Serialized
/// events are cached per refresh, so fifty watchers cost one poll and one serialization, not fifty.
/// </summary>
public sealed class SweepFeed
{
    private const int Page = 1000;
    private readonly SweepClient _client;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly List<TrialRow> _rows = [];
    private readonly Dictionary<string, int> _byId = new(StringComparer.Ordinal);
    private readonly List<HypervolumePoint> _hypervolume = [];
    private readonly Dictionary<long, (byte[] Bytes, int End)> _chunks = [];   // serialized "results" events by the position they start at
    private readonly Queue<long> _chunkOrder = new();
    private ParetoFront? _main, _node;
    private IReadOnlyList<double> _mainReference = [0, 0], _nodeReference = [0, 0];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _refreshedAt = long.MinValue;
    private byte[]? _statusEvent, _frontEvent;

    public SweepFeed(SweepClient client, string sweepId)
    {
        _client = client;
        SweepId = sweepId;
    }

    public string SweepId { get; }
    public SweepStatus? Status { get; private set; }
    public FrontReport? Front { get; private set; }
    /// <summary>How many requests and watchers use the feed now (the host refreshes feeds with watchers on its own).</summary>
    public int Watchers;
    /// <summary>Set (under the feed's lock) when the host drops the feed; <see cref="SweepFeeds.Get"/> never returns it then.</summary>
    public bool Retired;
    /// <summary>When a request last used the feed (Environment.TickCount64): idle feeds are dropped.</summary>
    public long LastUsed = Environment.TickCount64;

    /// <summary>The rows read so far (a snapshot count; rows are only ever appended).</summary>
    public int Count { get { lock (_rows) return _rows.Count; } }

    public TrialRow Row(int i) { lock (_rows) return _rows[i]; }

    public TrialRow[] Rows(int from, int count)
    {
        lock (_rows)
        {
            from = Math.Clamp(from, 0, _rows.Count);
            count = Math.Clamp(count, 0, _rows.Count - from);
            return _rows.GetRange(from, count).ToArray();
        }
    }

    public int? PositionOf(string trialId) { lock (_rows) return _byId.TryGetValue(trialId, out int i) ? i : null; }

    /// <summary>The last whole-sweep <c>/points</c> answer, kept while nothing changed (a finished sweep's page loads).</summary>
    internal volatile PointsAnswer? PointsCache;

    public HypervolumePoint[] HypervolumeSeries() { lock (_rows) return _hypervolume.ToArray(); }

    /// <summary>Completes when something changes after this call (a new status version, new rows, a new front).</summary>
    public Task Changed { get { lock (_rows) return _changed.Task; } }

    public byte[]? StatusEvent => Volatile.Read(ref _statusEvent);
    public byte[]? FrontEvent => Volatile.Read(ref _frontEvent);

    /// <summary>
    /// Reads what changed since the last refresh unless that was less than <paramref name="maxAge"/> ago. False when
    /// the cluster knows no such sweep.
    /// </summary>
    public async Task<bool> RefreshAsync(TimeSpan maxAge, CancellationToken cancellationToken)
    {
        LastUsed = Environment.TickCount64;
        if (Status is not null && Environment.TickCount64 - Volatile.Read(ref _refreshedAt) < maxAge.TotalMilliseconds) return true;
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (Status is not null && Environment.TickCount64 - _refreshedAt < maxAge.TotalMilliseconds) return true;
            SweepStatus status;
            try { status = await _client.GetStatusAsync(SweepId, cancellationToken); }
            catch (KeyNotFoundException)
            {
                Reset();   // deleted (`sweep delete`): a sweep submitted again under its id starts from nothing
                return false;
            }
            if (status.Done < Count) Reset();
            bool changed = Status is null || status.Version != Status.Version;
            if (changed && (Front is null || Front.Points.Count == 0 || status.Hypervolume != Status!.Hypervolume
                || status.NodeHypervolume != Status.NodeHypervolume || status.IsFinished))
            {
                var front = await _client.GetFrontAsync(SweepId, cancellationToken);
                if (_main is null) StartFronts(front);
                Front = front;
                Volatile.Write(ref _frontEvent, Event("front", null, front));
            }
            // Results are read up to the count the status promises, page by page.
            int added = 0;
            while (Count < status.Done)
            {
                int from = Count;
                var page = await _client.GetResultsPageAsync(SweepId, from, Page, cancellationToken);
                if (page.Count == 0) break;
                Append(page);
                added += page.Count;
            }
            // The status event before the status: a watcher that sees a finished status then sends its event, never
            // an older one, before "end".
            if (changed || added > 0) Volatile.Write(ref _statusEvent, Event("status", null, status));
            Status = status;
            _refreshedAt = Environment.TickCount64;
            if (changed || added > 0)
            {
                TaskCompletionSource done;
                lock (_rows)
                {
                    done = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                done.TrySetResult();
            }
            return true;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private void Reset()
    {
        lock (_rows)
        {
            _rows.Clear();
            _byId.Clear();
            _hypervolume.Clear();
            _main = _node = null;
        }
        lock (_chunks)
        {
            _chunks.Clear();
            _chunkOrder.Clear();
        }
        Status = null;
        Front = null;
        PointsCache = null;
        Volatile.Write(ref _statusEvent, null);
        Volatile.Write(ref _frontEvent, null);
    }

    private void StartFronts(FrontReport front)
    {
        var objectives = front.Objectives.Count == 2 ? front.Objectives : ["accuracy", "weightSparsity"];
        _main = new ParetoFront(objectives[0], objectives[1]);
        _node = new ParetoFront("accuracy", "nodeSparsity");
        _mainReference = front.ReferencePoint.Count == 2 ? front.ReferencePoint : [0, 0];
        _nodeReference = front.NodeFront.ReferencePoint.Count == 2 ? front.NodeFront.ReferencePoint : [0, 0];
    }

    private void Append(IReadOnlyList<TrialResult> page)
    {
        long start;
        lock (_rows)
        {
            start = _rows.Count;
            foreach (var r in page)
            {
                var row = new TrialRow(_rows.Count, r.TrialId, r.Status, r.Params, r.Accuracy, r.WeightSparsity, r.NodeSparsity,
                    r.Seconds, r.Silo, r.Error);
                _byId.TryAdd(r.TrialId, _rows.Count);
                _rows.Add(row);
                if (r.Status == TrialStatus.Completed && r.Accuracy is double a && _main is not null && _node is not null)
                {
                    var point = new FrontPoint(r.TrialId, r.Params, a, r.WeightSparsity ?? 0, r.NodeSparsity ?? 0);
                    // A point of the series wherever a front changes (a few hundred over a large sweep), and at each page's end.
                    if (_main.Add(point) | _node.Add(point)) AddHypervolume();
                }
            }
            if (_hypervolume.Count == 0 || _hypervolume[^1].Done != _rows.Count) AddHypervolume();
        }
        // The event of these rows, serialized once for every watcher that is caught up.
        var bytes = Event("results", start + page.Count, RowsPayload(start, Rows((int)start, page.Count)));
        lock (_chunks)
        {
            _chunks[start] = (bytes, (int)start + page.Count);
            _chunkOrder.Enqueue(start);
            while (_chunkOrder.Count > 64) _chunks.Remove(_chunkOrder.Dequeue());
        }
    }

    private void AddHypervolume()
    {
        if (_main is null || _node is null) return;
        var point = new HypervolumePoint(_rows.Count, _main.ToFront(_mainReference).Hypervolume, _node.ToFront(_nodeReference).Hypervolume);
        if (_hypervolume.Count > 0 && _hypervolume[^1].Done == point.Done) _hypervolume[^1] = point;
        else _hypervolume.Add(point);
    }

    /// <summary>The "results" event of the rows from <paramref name="from"/> on (at most a page), cached when it can be.</summary>
    public byte[] ResultsEvent(int from, out int next)
    {
        lock (_chunks)
        {
            if (_chunks.TryGetValue(from, out var cached))
            {
                next = cached.End;
                return cached.Bytes;
            }
        }
        var rows = Rows(from, Page);
        next = from + rows.Length;
        return Event("results", next, RowsPayload(from, rows));
    }

    private object RowsPayload(long from, TrialRow[] rows)
    {
        long end = from + rows.Length;
        return new
        {
            from,
            at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            // The points of the hypervolume series within these rows, as /points gives them: [done, hv, node hv].
            hypervolume = HypervolumeSeries().Where(p => p.Done > from && p.Done <= end)
                .Select(p => new[] { p.Done, p.Hypervolume, p.NodeHypervolume }),
            trials = rows.Select(ToJson),
        };
    }

    /// <summary>A row in the JSON shape of interface.md's result line (without layers and epochs), plus its position.</summary>
    public static object ToJson(TrialRow r) => new
    {
        position = r.Position, trialId = r.TrialId, status = r.Status, @params = r.Params, accuracy = r.Accuracy,
        weightSparsity = r.WeightSparsity, nodeSparsity = r.NodeSparsity, seconds = r.Seconds, silo = r.Silo, error = r.Error,
    };

    public static byte[] Event(string name, long? id, object data)
    {
        var json = JsonSerializer.Serialize(data, SweepJson.Options);
        var text = new StringBuilder(json.Length + 48).Append("event: ").Append(name).Append('\n');
        if (id is long i) text.Append("id: ").Append(i).Append('\n');
        return Encoding.UTF8.GetBytes(text.Append("data: ").Append(json).Append("\n\n").ToString());
    }
}
