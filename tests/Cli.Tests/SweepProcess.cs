using System.Diagnostics;

namespace Sweep.Cli.Tests;

/// <summary>Runs the real `sweep` client (the sweep.dll built next to the tests) as a child process.</summary>
public static class SweepProcess
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "sweep.dll");

    public static async Task<Outcome> RunAsync(IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null,
        Dictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var (key, value) in environment ?? []) psi.Environment[key] = value;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sweep {string.Join(' ', args)} did not finish in time");
        }
        return new Outcome(process.ExitCode, await stdout, await stderr);
    }
}
