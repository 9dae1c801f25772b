using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sweep.Grains.Security;

/// <summary>
/// Hears the warnings Orleans' TLS middleware logs when a handshake fails (the only place that says why), as a logger
/// provider for its categories: each failure's innermost reason, on one line, goes to <see cref="Failed"/>. A client
/// keeps it as its refusal; a silo writes one rate-limited line of its own instead of Orleans' stack trace.
/// </summary>
public abstract class TlsFailureListener : ILoggerProvider, ILogger
{
    /// <summary>Whether the log category is one whose warnings are handshake failures.</summary>
    protected abstract bool Listens(string category);

    /// <summary>A handshake failed, for this reason (one line).</summary>
    protected abstract void Failed(string reason);

    public ILogger CreateLogger(string categoryName) => Listens(categoryName) ? this : NullLogger.Instance;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel)) return;
        var inner = exception;
        while (inner?.InnerException is not null) inner = inner.InnerException;
        Failed(FirstLine(inner?.Message ?? formatter(state, exception)));
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }

    /// <summary>The first line of a message, trimmed.</summary>
    public static string FirstLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split('\n', 2)[0].Trim();
    }
}
