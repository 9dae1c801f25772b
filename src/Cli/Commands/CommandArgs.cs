using System.Globalization;

namespace Sweep.Cli.Commands;

/// <summary>Bad input on the command line: one line for the user, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Parses `--name value`, `--name=value` and `--flag` after a command, against the options that command declares,
/// so that every mistake becomes one line naming the flag.
/// </summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly string _command;
    public IReadOnlyList<string> Positional { get; }

    public CommandArgs(
        string command, IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string>? flags = null)
    {
        _command = command;
        flags ??= [];
        var positional = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--")
            {
                positional.Add(a);
                continue;
            }
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (flags.Contains(name))
            {
                if (inline is not null) throw new UsageException($"--{name} takes no value");
                _values[name] = null;
            }
            else if (valueOptions.Contains(name))
            {
                string? value = inline;
                if (value is null)
                {
                    if (i + 1 >= args.Count) throw new UsageException($"--{name} needs a value");
                    value = args[++i];
                }
                if (_values.ContainsKey(name)) throw new UsageException($"--{name} is given twice");
                _values[name] = value;
            }
            else
            {
                throw new UsageException($"unknown option --{name} for '{command}' (see: sweep {command} --help)");
            }
        }
        Positional = positional;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public string String(string name, string fallback) => String(name) ?? fallback;

    public double Double(string name, double fallback)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new UsageException($"--{name}: '{s}' is not a number");
        return v;
    }

    public long Long(string name, long fallback)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"--{name}: '{s}' is not an integer");
        return v;
    }

    public int Int(string name, int fallback)
    {
        long v = Long(name, fallback);
        if (v is < int.MinValue or > int.MaxValue) throw new UsageException($"--{name}: {v} is out of range");
        return (int)v;
    }

    public string RequirePositional(int index, string what)
    {
        if (Positional.Count <= index) throw new UsageException($"'{_command}' needs {what}");
        return Positional[index];
    }

    public void NoMorePositional(int count)
    {
        if (Positional.Count > count) throw new UsageException($"'{_command}': unexpected argument '{Positional[count]}'");
    }
}
