using System.Globalization;
using Sweep.Core.Models;

namespace Sweep.Cli.Output;

/// <summary>A live one-line progress bar on stderr (redrawn in place on a terminal, a line per change otherwise).</summary>
public sealed class ProgressLine
{
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private string _last = "";

    public void Update(SweepStatus s)
    {
        const int width = 28;
        int filled = s.Total == 0 ? width : (int)Math.Round(width * (double)s.Done / s.Total);
        string bar = new string('█', filled) + new string('░', width - filled);
        string eta = s.EtaSeconds is { } e ? Duration(e) : "–";
        string line = string.Create(CultureInfo.InvariantCulture,
            $"[{bar}] {s.Done}/{s.Total}  running {s.Running}  completed {s.Completed}  failed {s.Failed}"
            + $"{(s.Cancelled > 0 ? $"  cancelled {s.Cancelled}" : "")}{(s.Stopped > 0 ? $"  stopped {s.Stopped}" : "")}"
            + $"  hv {s.Hypervolume:F4}  "
            + $"elapsed {Duration(s.ElapsedSeconds)}  ETA {eta}");
        if (line == _last) return;
        if (_interactive) Console.Error.Write("\r" + line.PadRight(_last.Length));
        else if (StripClock(line) != StripClock(_last)) Console.Error.WriteLine(line);
        _last = line;
    }

    public void Finish()
    {
        if (_interactive && _last.Length > 0) Console.Error.WriteLine();
    }

    public static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
    }

    // Off a terminal, print only when the counts change, not every time the clock ticks.
    private static string StripClock(string line) => line.Contains("  elapsed", StringComparison.Ordinal)
        ? line[..line.IndexOf("  elapsed", StringComparison.Ordinal)]
        : line;
}
