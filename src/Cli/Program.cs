using Sweep.Core.Data;
using Sweep.Client;
using System.Runtime.InteropServices;
using Sweep.Cli.Commands;
using Sweep.Core.Search;
using Sweep.Training;
using Sweep.Training.Data;
using Sweep.Training.Models;

namespace Sweep.Cli;

public static class Program
{
    private const string Usage = """
        usage: sweep <command> [options]      (sweep <command> --help for its options)
          trial     one trial, in-process, no cluster
          compact   a saved trial model without its dead nodes: smaller, same outputs; sizes, accuracy, latency
          run       a whole sweep in this process (embedded silo + client), writing runs/<name>/
          silo      a long-running silo (localhost cluster, or --redis for a real one)
          dashboard the Aspire dashboard: a local OTLP receiver and trace viewer
          submit    submit a spec to a running cluster; prints the sweep id
          status, watch, front, export, cancel, resume, list, delete    against a running cluster
          plot      SVG plots (node-death dynamics, fronts, λ curves) of run folders or sweeps, with their data as JSON
        """;

    private static readonly string[] ClusterCommandNames =
        ["submit", "status", "watch", "front", "export", "cancel", "resume", "list", "delete"];

    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        // Ctrl+C and SIGTERM ask the command to stop cleanly; a second one ends the process at once.
        Console.CancelKeyPress += (_, e) => { e.Cancel = !cancel.IsCancellationRequested; cancel.Cancel(); };
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = !cancel.IsCancellationRequested;
            cancel.Cancel();
        });
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
                    "compact" => CompactCommand.Help,
                    "run" => RunCommand.Help,
                    "silo" => SiloCommand.Help,
                    "dashboard" => DashboardCommand.Help,
                    "plot" => PlotCommand.Help,
                    _ when ClusterCommandNames.Contains(command) => ClusterCommands.Help,
                    _ => Usage,
                });
                return 0;
            }
            return command switch
            {
                "trial" => TrialCommand.Run(rest, cancel.Token),
                "compact" => CompactCommand.Run(rest),
                "run" => await RunCommand.RunAsync(rest, cancel.Token),
                "silo" => await SiloCommand.RunAsync(rest, cancel.Token),
                "dashboard" => await DashboardCommand.RunAsync(rest, cancel.Token),
                "plot" => await PlotCommand.RunAsync(rest, cancel.Token),
                _ when ClusterCommandNames.Contains(command) => await ClusterCommands.RunAsync(command, rest, cancel.Token),
                _ => throw new UsageException(
                    $"unknown command '{command}' (commands: trial, compact, run, silo, dashboard, plot, "
                    + $"{string.Join(", ", ClusterCommandNames)})"),
            };
        }
        catch (UsageException e) { return Fail(2, e.Message); }
        catch (InvalidSettingException e) { return Fail(2, e.Message); }
        catch (DatasetException e) { return Fail(2, e.Message); }
        catch (ModelFileException e) { return Fail(2, e.Message); }
        catch (SpecException e) { return Fail(2, e.Message); }
        catch (KeyNotFoundException e) { return Fail(2, e.Message); }
        catch (ClusterUnreachableException e) { return Fail(1, e.Message); }
        catch (Sweep.Grains.SweepAccessDeniedException e) { return Fail(1, $"refused by the cluster: {e.Message}"); }
        catch (OperationCanceledException) { return Fail(130, "cancelled"); }
        // A full disk, a read-only folder, a permission: the message names the file and the cause.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException
            && Environment.GetEnvironmentVariable("SWEEP_DEBUG") is null)
        {
            return Fail(1, $"error: {e.Message}");
        }
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
