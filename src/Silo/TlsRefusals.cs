using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Sweep.Grains.Security;

namespace Sweep.Silo;

/// <summary>
/// How many lines a stream of like events may write: at most <see cref="PerWindow"/> in each window of
/// <see cref="Window"/>; the rest are counted and told in one line when their window ends. A decision, no clock of its own.
/// </summary>
public sealed class LineBudget(int perWindow, TimeSpan window)
{
    private DateTime _windowStart = DateTime.MinValue;
    private int _written;

    public int PerWindow { get; } = perWindow;
    public TimeSpan Window { get; } = window;

    /// <summary>Events of the window that ended (or is running) that were not written one by one.</summary>
    public int Suppressed { get; private set; }

    /// <summary>
    /// Counts an event at <paramref name="now"/>: true = write its line. <paramref name="endedSuppressed"/> is the count of
    /// a window that ended before it with events not written (to tell first), else 0.
    /// </summary>
    public bool Take(DateTime now, out int endedSuppressed)
    {
        endedSuppressed = Close(now);
        if (now - _windowStart >= Window)
        {
            _windowStart = now;
            _written = 0;
        }
        if (_written < PerWindow)
        {
            _written++;
            return true;
        }
        Suppressed++;
        return false;
    }

    /// <summary>Ends the window if it is over at <paramref name="now"/>: returns how many of its events were not written.</summary>
    public int Close(DateTime now)
    {
        if (Suppressed == 0 || now - _windowStart < Window) return 0;
        int count = Suppressed;
        Suppressed = 0;
        return count;
    }
}

/// <summary>
/// Failed TLS handshakes on a silo's connections, one line each, rate-limited. Orleans' TLS middleware logs each failure
/// as a warning with the exception's stack trace; on a cluster that anyone can reach, a scanner or a misconfigured client
/// would fill the log. Its lines (categories Orleans.Connections.Security.*) are kept from the console and come here: the
/// remote address (taken by <see cref="Middleware"/>, which runs before the handshake on every connection) and the
/// innermost reason, at most 5 lines in 10 s, then one line with the count of the rest.
/// </summary>
public sealed class TlsRefusals : TlsFailureListener
{
    /// <summary>The categories whose warnings are handshake failures.</summary>
    public const string Category = "Orleans.Connections.Security";

    private static readonly AsyncLocal<EndPoint?> Remote = new();
    private readonly Lock _lock = new();
    private readonly LineBudget _budget = new(5, TimeSpan.FromSeconds(10));
    private readonly Func<ILogger> _output;
    private ILogger? _logger;
    private Timer? _flush;

    /// <param name="output">The logger the lines go to (resolved at the first failure: the provider is part of the factory).</param>
    public TlsRefusals(Func<ILogger> output) => _output = output;

    /// <summary>Notes each connection's remote address for a failure logged while its handshake runs.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => context =>
    {
        Remote.Value = context.RemoteEndPoint;
        return next(context);
    };

    protected override bool Listens(string category) => category.StartsWith(Category, StringComparison.Ordinal);

    protected override void Failed(string reason)
    {
        string from = Remote.Value?.ToString() ?? "a peer";
        bool write;
        int ended;
        lock (_lock)
        {
            write = _budget.Take(DateTime.UtcNow, out ended);
            // The count of a window is told when it ends, even if no further failure comes.
            if (!write && _flush is null) _flush = new Timer(_ => Flush(), null, _budget.Window, Timeout.InfiniteTimeSpan);
        }
        var logger = _logger ??= _output();
        if (ended > 0) Told(logger, ended);
        if (write) logger.LogWarning("TLS handshake with {Remote} failed: {Reason}", from, reason);
    }

    private void Flush()
    {
        int ended;
        lock (_lock)
        {
            ended = _budget.Close(DateTime.UtcNow);
            _flush?.Dispose();
            _flush = null;
            if (_budget.Suppressed > 0) _flush = new Timer(_ => Flush(), null, _budget.Window, Timeout.InfiniteTimeSpan);
        }
        if (ended > 0) Told(_logger ??= _output(), ended);
    }

    private void Told(ILogger logger, int count) => logger.LogWarning(
        "{Count} more TLS handshakes failed within {Window:0} s (at most {Max} a window are logged one by one)",
        count, _budget.Window.TotalSeconds, _budget.PerWindow);

    protected override void Dispose(bool disposing)
    {
        lock (_lock)
        {
            _flush?.Dispose();
            _flush = null;
        }
    }
}
