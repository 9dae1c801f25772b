using Xunit;

namespace Sweep.Cli.Tests;

/// <summary>The cluster commands' handling of their flags, without a cluster.</summary>
public sealed class ClusterCommandTests
{
    [Fact]
    public async Task An_unparsable_redis_string_is_refused_without_echoing_its_password()
    {
        var outcome = await SweepProcess.RunAsync(["status", "some-id", "--redis", "redis:6379,password=hunter2,nosuchkey=1"]);

        Assert.Equal(2, outcome.ExitCode);
        string line = Assert.Single(outcome.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sweep: --redis: not a Redis address", line);
        Assert.DoesNotContain("hunter2", outcome.Stderr + outcome.Stdout);
    }
}
