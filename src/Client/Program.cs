using Sweep.Client.Cli;
using Sweep.Training;
using Sweep.Training.Data;

namespace Sweep.Client;

public static class Program
{
    private const string Usage = """
        usage: sweep <command> [options]      (sweep <command> --help for its options)
          trial     one trial, in-process, no cluster
        """;

    public static int Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        string command = args[0];
        var rest = args[1..];
        try
        {
            if (rest.Contains("--help") || rest.Contains("-h"))
            {
                Console.WriteLine(command switch
                {
                    "trial" => TrialCommand.Help,
                    _ => Usage,
                });
                return 0;
            }
            return command switch
            {
                "trial" => TrialCommand.Run(rest, cancel.Token),
                _ => throw new UsageException($"unknown command '{command}' (commands: trial)"),
            };
        }
        catch (UsageException e) { return Fail(2, e.Message); }
        catch (InvalidSettingException e) { return Fail(2, e.Message); }
        catch (DatasetException e) { return Fail(2, e.Message); }
        catch (OperationCanceledException) { return Fail(130, "cancelled"); }
        catch (Exception e) when (Environment.GetEnvironmentVariable("SWEEP_DEBUG") is null)
        {
            return Fail(1, $"error: {e.GetType().Name}: {e.Message}");
        }
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"sweep: {message}");
        return code;
    }
}
