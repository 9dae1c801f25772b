using System.Net;
using Xunit;

namespace Sweep.Cluster.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task A_silo_process_answers_live_then_ready_once_it_joined_and_registered_its_slots()
    {
        await using var cluster = new RealCluster();
        var silo = cluster.StartSilo();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string Url(string probe) => $"http://127.0.0.1:{silo.HealthPort}/healthz/{probe}";

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HttpStatusCode ready = 0;
        while (DateTime.UtcNow < deadline && ready != HttpStatusCode.OK)
        {
            try { ready = (await http.GetAsync(Url("ready"))).StatusCode; }
            catch (HttpRequestException) { }   // not listening yet
            await Task.Delay(200);
        }
        Assert.True(ready == HttpStatusCode.OK, $"never ready\n{cluster.Logs()}");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(Url("live"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(Url("startup"))).StatusCode);
        Assert.Contains("1 slot(s)", await http.GetStringAsync(Url("ready")));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{silo.HealthPort}/healthz/nope")).StatusCode);

        // After SIGTERM the silo leaves and stops answering.
        Assert.True(silo.Terminate(TimeSpan.FromSeconds(60)));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync(Url("live")));
    }
}
