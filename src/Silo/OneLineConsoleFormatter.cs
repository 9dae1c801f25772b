using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Sweep.Silo;

/// <summary>
/// The embedded run's terminal log: one line per entry, an exception as its type and first message line, never a stack
/// trace (SWEEP_DEBUG=1 brings the full console log back).
/// </summary>
public sealed class OneLineConsoleFormatter(TerminalLog terminal) : ConsoleFormatter(Name)
{
    public new const string Name = "sweep-one-line";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        if (terminal.Muted) return;
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        string level = logEntry.LogLevel switch
        {
            LogLevel.Critical => "critical", LogLevel.Error => "error", LogLevel.Warning => "warning", _ => "info",
        };
        string line = $"sweep: {level}: {FirstLine(message)}";
        if (logEntry.Exception is { } e) line += $" ({e.GetType().Name}: {FirstLine(e.Message)})";
        textWriter.WriteLine(line);
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}

/// <summary>
/// The embedded run's say over its terminal log: muted once the run has said why it ends (a full disk, say), so that the
/// silo's complaints while it stops do not bury that line.
/// </summary>
public sealed class TerminalLog
{
    private volatile bool _muted;

    public bool Muted => _muted;

    public void Mute() => _muted = true;
}
