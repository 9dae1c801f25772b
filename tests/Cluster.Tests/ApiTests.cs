using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Sweep.Cluster.Tests;

/// <summary>
/// The HTTP API, the Python client and the dashboard against a real secured silo process (HTTPS with the silo's
/// certificate, the cluster's client credential as bearer token; <see cref="SecureCluster"/>).
/// </summary>
public sealed class ApiTests(SecureCluster secure) : IClassFixture<SecureCluster>
{
    private static string Spec(string name, int trials, int epochs, int? trainLimit = 200, string more = "")
    {
        var rates = string.Join(", ", Enumerable.Range(0, trials).Select(i => (0.3 + 0.6 * i / Math.Max(1, trials - 1)).ToString("0.###")));
        string limit = trainLimit is int t ? $", \"trainLimit\": {t}" : "";
        return $$"""
            { "name": "{{name}}", "training": { "epochs": {{epochs}}{{limit}} },
              "search": { "strategy": "grid", "space": { "pruneRate": [{{rates}}]{{more}} } } }
            """;
    }

    private HttpClient Http(string? token)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(secure.CaFile));
        var handler = new HttpClientHandler
        {
            // Trust the cluster's authority only (the silo's certificate names 127.0.0.1).
            ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate) && (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) == 0;
            },
        };
        var http = new HttpClient(handler) { BaseAddress = new Uri(secure.ApiUrl), Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Reads an events stream to its "end" event: every (event, data) in order.</summary>
    private static async Task<List<(string Event, JsonElement Data)>> EventsAsync(HttpClient http, string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var events = new List<(string, JsonElement)>();
        string? name = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (name is not null && data.Length > 0)
                {
                    events.Add((name, JsonDocument.Parse(data.ToString()).RootElement.Clone()));
                    if (name == "end") return events;
                }
                name = null;
                data.Clear();
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
        }
        throw new InvalidOperationException("the events stream ended without an end event");
    }

    [Fact]
    public async Task The_API_over_HTTPS_submits_streams_events_pages_trials_and_cancels_and_asks_for_the_token()
    {
        using var anonymous = Http(null);
        using var wrong = Http("not-the-token");
        using var http = Http(secure.Token);

        // No or a wrong token: 401 with a Bearer challenge; the OpenAPI document and the page need none.
        var refused = await anonymous.GetAsync("api/sweeps");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("client credential", (await JsonAsync(refused, HttpStatusCode.Unauthorized)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsync("api/sweeps", new StringContent(Spec("x", 1, 1)))).StatusCode);
        var openApi = await JsonAsync(await anonymous.GetAsync("openapi/v1.json"), HttpStatusCode.OK);
        foreach (var path in new[] { "/api/sweeps", "/api/sweeps/{id}", "/api/sweeps/{id}/front", "/api/sweeps/{id}/trials",
                     "/api/sweeps/{id}/trials/{trialId}", "/api/sweeps/{id}/cancel", "/api/sweeps/{id}/events" })
            Assert.True(openApi.GetProperty("paths").TryGetProperty(path, out _), $"OpenAPI lacks {path}");
        Assert.Contains("<title>Sweep</title>", await anonymous.GetStringAsync(""));

        // A bad spec: 400 with the command line's one-line message, naming the field.
        var bad = await JsonAsync(await http.PostAsync("api/sweeps", new StringContent("""{ "name": "bad", "model": "nope" }""")),
            HttpStatusCode.BadRequest);
        Assert.StartsWith("sweep: model: unknown model", bad.GetProperty("error").GetString());
        var malformed = await JsonAsync(await http.PostAsync("api/sweeps", new StringContent("{ not json")), HttpStatusCode.BadRequest);
        Assert.StartsWith("sweep: ", malformed.GetProperty("error").GetString());

        // Submit → events to the end → front → trials paged → one trial.
        var submitted = await JsonAsync(await http.PostAsync("api/sweeps", new StringContent(Spec("api", 8, 1))), HttpStatusCode.Created);
        string id = submitted.GetProperty("id").GetString()!;
        var events = await EventsAsync(http, $"api/sweeps/{id}/events");
        var results = events.Where(e => e.Event == "results").SelectMany(e => e.Data.GetProperty("trials").EnumerateArray()).ToList();
        Assert.Equal(Enumerable.Range(0, 8), results.Select(r => r.GetProperty("position").GetInt32()));
        Assert.Equal(8, results.Select(r => r.GetProperty("trialId").GetString()).Distinct().Count());
        var lastStatus = events.Last(e => e.Event == "status").Data;
        Assert.Equal("completed", lastStatus.GetProperty("state").GetString());
        Assert.Equal(8, lastStatus.GetProperty("completed").GetInt32());
        Assert.Contains(events, e => e.Event == "front");

        var status = await JsonAsync(await http.GetAsync($"api/sweeps/{id}"), HttpStatusCode.OK);
        var front = await JsonAsync(await http.GetAsync($"api/sweeps/{id}/front"), HttpStatusCode.OK);
        Assert.Equal(status.GetProperty("hypervolume").GetDouble(), front.GetProperty("hypervolume").GetDouble());
        Assert.True(front.GetProperty("hypervolume").GetDouble() > 0);
        var ids = results.Select(r => r.GetProperty("trialId").GetString()).ToHashSet();
        Assert.All(front.GetProperty("points").EnumerateArray(), p => Assert.Contains(p.GetProperty("trialId").GetString(), ids));

        var page1 = await JsonAsync(await http.GetAsync($"api/sweeps/{id}/trials?offset=0&limit=5"), HttpStatusCode.OK);
        var page2 = await JsonAsync(await http.GetAsync($"api/sweeps/{id}/trials?offset=5&limit=5"), HttpStatusCode.OK);
        Assert.Equal(8, page1.GetProperty("total").GetInt32());
        var paged = page1.GetProperty("trials").EnumerateArray().Concat(page2.GetProperty("trials").EnumerateArray()).ToList();
        Assert.Equal(results.Select(r => r.GetProperty("trialId").GetString()), paged.Select(t => t.GetProperty("trialId").GetString()));
        Assert.All(paged, t => Assert.Equal(1, t.GetProperty("epochs").GetArrayLength()));
        Assert.Contains("limit", (await JsonAsync(await http.GetAsync($"api/sweeps/{id}/trials?limit=0"), HttpStatusCode.BadRequest))
            .GetProperty("error").GetString());
        Assert.Contains("offset", (await JsonAsync(await http.GetAsync($"api/sweeps/{id}/trials?offset=-1"), HttpStatusCode.BadRequest))
            .GetProperty("error").GetString());
        // Values that are not whole numbers get the same one-line answer (not an empty 400 of the framework's binder).
        foreach (var (query, name) in new[] { ("trials?limit=abc", "limit"), ("trials?offset=1e3", "offset"), ("events?from=x", "from"),
                     ("points?from=-2", "from") })
            Assert.StartsWith($"sweep: {name}: must be a whole number",
                (await JsonAsync(await http.GetAsync($"api/sweeps/{id}/{query}"), HttpStatusCode.BadRequest))
                    .GetProperty("error").GetString());
        // Another site's page cannot drive the API through a browser: a foreign Origin is refused, even with the token.
        using (var foreign = new HttpRequestMessage(HttpMethod.Post, $"api/sweeps/{id}/cancel"))
        {
            foreign.Headers.Add("Origin", "https://evil.example");
            Assert.Contains("cross-origin", (await JsonAsync(await http.SendAsync(foreign), HttpStatusCode.Forbidden))
                .GetProperty("error").GetString());
        }
        using (var same = new HttpRequestMessage(HttpMethod.Get, $"api/sweeps/{id}"))
        {
            same.Headers.Add("Origin", secure.ApiUrl.TrimEnd('/'));
            await JsonAsync(await http.SendAsync(same), HttpStatusCode.OK);
        }

        string trialId = paged[3].GetProperty("trialId").GetString()!;
        var trial = await JsonAsync(await http.GetAsync($"api/sweeps/{id}/trials/{trialId}"), HttpStatusCode.OK);
        Assert.Equal(paged[3].GetRawText(), trial.GetRawText());
        await JsonAsync(await http.GetAsync($"api/sweeps/{id}/trials/t-none"), HttpStatusCode.NotFound);
        await JsonAsync(await http.GetAsync("api/sweeps/no-such-sweep"), HttpStatusCode.NotFound);
        await JsonAsync(await http.GetAsync("api/sweeps/no-such-sweep/events"), HttpStatusCode.NotFound);

        // Resuming the stream from a position sends only what follows it; Last-Event-ID (a reconnecting EventSource, which
        // repeats its first URL) wins over ?from=.
        var resumed = await EventsAsync(http, $"api/sweeps/{id}/events?from=6");
        Assert.Equal([6, 7], resumed.Where(e => e.Event == "results")
            .SelectMany(e => e.Data.GetProperty("trials").EnumerateArray()).Select(r => r.GetProperty("position").GetInt32()));
        http.DefaultRequestHeaders.Add("Last-Event-ID", "7");
        var reconnected = await EventsAsync(http, $"api/sweeps/{id}/events?from=0");
        http.DefaultRequestHeaders.Remove("Last-Event-ID");
        Assert.Equal([7], reconnected.Where(e => e.Event == "results")
            .SelectMany(e => e.Data.GetProperty("trials").EnumerateArray()).Select(r => r.GetProperty("position").GetInt32()));
        // The hypervolume points of each results event lie within its rows, and the last one is the final front's.
        var hvPoints = events.Where(e => e.Event == "results").SelectMany(e => e.Data.GetProperty("hypervolume").EnumerateArray()
            .Select(p => (Done: p[0].GetDouble(), Hv: p[1].GetDouble(), From: e.Data.GetProperty("from").GetDouble(),
                Count: e.Data.GetProperty("trials").GetArrayLength()))).ToList();
        Assert.NotEmpty(hvPoints);
        Assert.All(hvPoints, p => Assert.InRange(p.Done, p.From + 1, p.From + p.Count));
        Assert.Equal(8, hvPoints[^1].Done);
        Assert.Equal(front.GetProperty("hypervolume").GetDouble(), hvPoints[^1].Hv, 9);

        // Cancel: the sweep stops, the stream ends with it.
        var longOne = await JsonAsync(
            await http.PostAsync("api/sweeps", new StringContent(Spec("api-cancel", 30, 3))), HttpStatusCode.Created);
        string longId = longOne.GetProperty("id").GetString()!;
        var cancelled = await JsonAsync(await http.PostAsync($"api/sweeps/{longId}/cancel", null), HttpStatusCode.OK);
        Assert.Equal("cancelled", cancelled.GetProperty("state").GetString());
        var after = await EventsAsync(http, $"api/sweeps/{longId}/events");
        Assert.True(after.Last(e => e.Event == "status").Data.GetProperty("cancelled").GetInt32() > 0);

        var list = await JsonAsync(await http.GetAsync("api/sweeps"), HttpStatusCode.OK);
        Assert.Contains(list.EnumerateArray(), s => s.GetProperty("sweepId").GetString() == id);

        // Plain HTTP to the HTTPS port gets nothing.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetStringAsync($"http://127.0.0.1:{secure.HttpPort}/api/sweeps"));
    }

    [Fact]
    public async Task The_Python_client_passes_its_tests_against_the_silo()
    {
        string repo = Repository.Root;
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo };
        foreach (var a in new[] { "-m", "unittest", "discover", "-v", "-s", Path.Combine(repo, "clients", "python", "tests") })
            psi.ArgumentList.Add(a);
        psi.Environment["SWEEP_URL"] = secure.ApiUrl;
        psi.Environment["SWEEP_TOKEN"] = secure.Token;
        psi.Environment["SWEEP_CA"] = secure.CaFile;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(cts.Token);
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("Ran 4 tests", output);
        Assert.DoesNotContain("skipped", output);
    }

    [Fact]
    public async Task The_dashboard_in_Chromium_updates_its_fronts_and_table_as_trials_finish()
    {
        string shots = Environment.GetEnvironmentVariable("SWEEP_SCREENSHOTS") ?? Path.Combine(Repository.Root, ".artifacts", "dashboard");
        await using var browser = await Chromium.StartAsync(1400, 1000);
        using var http = Http(secure.Token);
        // Full training data, 3 epochs, 4 rates × 2 regularizers × 2 λ: trials finish one by one over several seconds on the
        // two one-slot silos.
        const string grid = """, "regularizer": ["l1", "l2"], "lambda": [1e-5, 1e-3]""";
        var submitted = await JsonAsync(await http.PostAsync("api/sweeps", new StringContent(Spec("dashboard", 4, 3, null, grid))),
            HttpStatusCode.Created);
        string id = submitted.GetProperty("id").GetString()!;

        // The page asks for the token (401), then loads the sweep.
        await browser.NavigateAsync($"{secure.ApiUrl}#/sweep/{Uri.EscapeDataString(id)}");
        Assert.True(await browser.WaitForAsync("!!document.querySelector('#login')", TimeSpan.FromSeconds(30)), browser.Log);
        await browser.EvaluateAsync($"document.querySelector('#token').value = '{secure.Token}'; "
            + "document.querySelector('#login').requestSubmit(); true");
        Assert.True(await browser.WaitForAsync("window.sweepDash.ready && window.sweepDash.rows >= 0", TimeSpan.FromSeconds(30)));

        // Watch the page while the sweep runs: the row count must grow in steps, from below the total to all of it.
        var seen = new SortedSet<int>();
        bool midShot = false;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            int rows = (await browser.EvaluateAsync("window.sweepDash.rows")).GetInt32();
            seen.Add(rows);
            if (!midShot && rows >= 4 && rows < 16)
            {
                await browser.ScreenshotAsync(Path.Combine(shots, "dashboard-running.png"));
                midShot = true;
            }
            if (rows == 16 && (await browser.EvaluateAsync("window.sweepDash.status.state")).GetString() == "completed") break;
            await Task.Delay(150);
        }
        Assert.True(seen.Max == 16, $"rows seen: {string.Join(", ", seen)}");
        Assert.True(seen.Min < 16 && seen.Count >= 3, $"the page did not update live: rows seen {string.Join(", ", seen)}");
        Assert.True(await browser.WaitForAsync("window.sweepDash.frontPoints > 0 && window.sweepDash.nodeFrontPoints > 0 "
            + "&& window.sweepDash.tableRows === 16 && document.querySelectorAll('#table tbody tr').length === 16",
            TimeSpan.FromSeconds(10)));
        var front = await JsonAsync(await http.GetAsync($"api/sweeps/{id}/front"), HttpStatusCode.OK);
        Assert.Equal(front.GetProperty("points").GetArrayLength(),
            (await browser.EvaluateAsync("window.sweepDash.frontPoints")).GetInt32());
        Assert.Equal(16, (await browser.EvaluateAsync("window.sweepDash.status.completed")).GetInt32());
        // The table sorts: accuracy descending by default, ascending after a click on its header.
        var accuracies = await browser.EvaluateAsync("[...document.querySelectorAll('#table tbody tr')].map(tr => "
            + "+tr.children[[...document.querySelectorAll('#table th')].findIndex(th => th.dataset.col === 'accuracy')].textContent)");
        var values = accuracies.EnumerateArray().Select(v => v.GetDouble()).ToList();
        Assert.Equal(values.OrderByDescending(v => v), values);
        await browser.ScreenshotAsync(Path.Combine(shots, "dashboard-sweep.png"));

        // A trial's page: its epochs and its layers' dead nodes.
        await browser.EvaluateAsync("window.sweepDash.ready = false; document.querySelector('#table tbody tr').click(); true");
        Assert.True(await browser.WaitForAsync("location.hash.includes('/trial/') && window.sweepDash.ready "
            + "&& document.querySelectorAll('#trial svg').length >= 3", TimeSpan.FromSeconds(30)));
        Assert.Contains("Dead nodes per layer", (await browser.EvaluateAsync("document.body.innerText")).GetString());
        await browser.ScreenshotAsync(Path.Combine(shots, "dashboard-trial.png"));

        // The list of sweeps.
        await browser.EvaluateAsync("window.sweepDash.ready = false; location.hash = '#/'; true");
        Assert.True(await browser.WaitForAsync(
            $"window.sweepDash.ready && document.body.innerText.includes('{id}')", TimeSpan.FromSeconds(30)));
        await browser.ScreenshotAsync(Path.Combine(shots, "dashboard-list.png"));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("*")]
    [InlineData("..\\..\\x")]
    [InlineData("a b")]
    public async Task A_sweep_id_that_is_not_a_name_is_refused_with_400_and_one_line(string id)
    {
        using var http = Http(secure.Token);
        using var content = new StringContent(Spec("ids", 1, 1));
        var answer = await JsonAsync(await http.PostAsync($"api/sweeps?id={Uri.EscapeDataString(id)}", content), HttpStatusCode.BadRequest);
        Assert.StartsWith("sweep: id: must ", answer.GetProperty("error").GetString());
        Assert.DoesNotContain('\n', answer.GetProperty("error").GetString()!);
    }

    [Fact]
    public async Task A_sweep_id_taken_by_another_spec_is_409_and_the_same_spec_again_is_200()
    {
        using var http = Http(secure.Token);
        string id = $"taken-{Guid.NewGuid():N}"[..14];
        string spec = Spec("taken", 1, 1);
        var first = await JsonAsync(await http.PostAsync($"api/sweeps?id={id}", new StringContent(spec)), HttpStatusCode.Created);
        Assert.Equal(id, first.GetProperty("id").GetString());
        // A retried POST: the same answer, nothing changes.
        var again = await JsonAsync(await http.PostAsync($"api/sweeps?id={id}", new StringContent(spec)), HttpStatusCode.OK);
        Assert.Equal(id, again.GetProperty("id").GetString());
        var other = await JsonAsync(await http.PostAsync($"api/sweeps?id={id}", new StringContent(Spec("taken", 2, 1))),
            HttpStatusCode.Conflict);
        string error = other.GetProperty("error").GetString()!;
        Assert.StartsWith($"sweep: id: a sweep '{id}' exists with another spec", error);
        Assert.DoesNotContain('\n', error);
        var status = await JsonAsync(await http.GetAsync($"api/sweeps/{id}"), HttpStatusCode.OK);
        Assert.Equal(1, status.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task The_OpenAPI_document_declares_the_bearer_scheme_documents_every_answer_and_lints_clean()
    {
        using var anonymous = Http(null);
        string text = await (await anonymous.GetAsync("openapi/v1.json")).Content.ReadAsStringAsync();
        var doc = JsonDocument.Parse(text).RootElement;
        var scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        // This API asks for the token: every operation needs the scheme (no anonymous alternative).
        var security = Assert.Single(doc.GetProperty("security").EnumerateArray());
        Assert.True(security.TryGetProperty("bearer", out _));
        Assert.All(doc.GetProperty("servers").EnumerateArray(), s => Assert.DoesNotMatch("/$", s.GetProperty("url").GetString()!));
        int operations = 0;
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject())
        {
            operations++;
            var codes = operation.Value.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
            string where = $"{operation.Name.ToUpperInvariant()} {path.Name}";
            foreach (var code in new[] { "401", "403", "503" }) Assert.True(codes.Contains(code), $"{where} does not document {code}");
            if (path.Name.Contains("{id}")) Assert.True(codes.Contains("404"), $"{where} does not document 404");
            if (where == "POST /api/sweeps")
                foreach (var code in new[] { "200", "201", "400", "409", "413" })
                    Assert.True(codes.Contains(code), $"{where} does not document {code}");
            Assert.True(operation.Value.TryGetProperty("operationId", out _), $"{where} has no operationId");
        }
        Assert.Equal(9, operations);

        // Redocly CLI's recommended rules and swagger-parser: no errors.
        string lint = Path.Combine(Repository.Root, "tools", "openapi-lint");
        Assert.True(Directory.Exists(Path.Combine(lint, "node_modules", "@redocly", "cli")),
            "tools/openapi-lint/node_modules is missing: ./test.sh installs it (npm ci --prefix tools/openapi-lint)");
        string file = Path.Combine(Path.GetTempPath(), $"sweep-openapi-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, text);
        try
        {
            var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = lint };
            psi.ArgumentList.Add(Path.Combine(lint, "lint.mjs"));
            psi.ArgumentList.Add(file);
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(cts.Token);
            string output = await stdout + await stderr;
            Console.WriteLine(output);
            Assert.True(process.ExitCode == 0, output);
            Assert.Contains("swagger-parser: valid", output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_is_answered_413_with_the_one_line_error()
    {
        using var http = Http(secure.Token);
        // Expect: 100-continue, as curl sends for large bodies: the server answers before the body is sent, so the answer
        // is read whole (a client that sends it all first may find the connection closed after 2 MiB).
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/sweeps")
        {
            Content = new StringContent(new string(' ', 3 << 20) + Spec("big", 1, 1)),
        };
        request.Headers.ExpectContinue = true;
        var answer = await JsonAsync(await http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("sweep: spec: the request body is larger than the API's limit of 2 MiB", answer.GetProperty("error").GetString());
    }
}

/// <summary>The repository's root folder (the one with Sweep.sln), found upwards from the test binary.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sweep.sln"))) return dir.FullName;
        throw new InvalidOperationException("no Sweep.sln above " + AppContext.BaseDirectory);
    }
}
