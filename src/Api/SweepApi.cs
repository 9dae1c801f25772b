using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sweep.Client;
using Sweep.Core;
using Sweep.Core.Models;
using Sweep.Core.Search;
using Sweep.Grains;

namespace Sweep.Api;

/// <summary>
/// The routes of the HTTP API. Bodies are interface.md's formats (camelCase JSON: a sweep's status as `status --json`,
/// front.json, result lines); errors are {"error": "one line"} with 400 (bad input, naming the field), 401, 403, 404, 409
/// (an id taken by another spec), 413 (a body over the limit) or 503.
/// </summary>
public static class SweepApi
{
    public const string Description =
        "Submit, watch and read sweeps of a Sweep cluster. Every /api route asks for the cluster's client credential as "
        + "'Authorization: Bearer TOKEN' when the cluster has one. Formats: docs/interface.md.";
    private const int MaxLimit = 1000;
    private static readonly IResult Streaming = Results.Text("a marker: the events stream may start");

    public static IResult Error(int status, string message) =>
        Results.Json(new ApiError(message), SweepJson.Options, statusCode: status);

    private static IResult Json<T>(T value) => Results.Json(value, SweepJson.Options);

    public static void Map(IEndpointRouteBuilder app)
    {
        // Every route may answer 401 (no or a wrong token), 403 (a foreign Origin or Host) and 503 (no cluster).
        var api = app.MapGroup("/api/sweeps").WithTags("sweeps").WithMetadata(
            Answer(401), Answer(403), Answer(503));
        api.MapGet("/", List).WithName("listSweeps").Produces<IReadOnlyList<SweepSummary>>()
            .WithSummary("The sweeps the cluster knows, oldest first, with state and counts as their coordinators last told.");
        api.MapPost("/", Submit).WithName("submitSweep")
            .Produces<SubmitAnswer>(201).Produces<SubmitAnswer>(200).Produces<ApiError>(400).Produces<ApiError>(409)
            .Produces<ApiError>(413)
            .WithSummary("Submits a spec (the JSON of a spec file, at most 2 MiB); ?id= names the sweep.")
            .WithDescription("201: a new sweep. 200: a sweep of this id with the same spec exists already (nothing changes). "
                + "409: a sweep of this id exists with another spec. 400: a bad spec or id, naming the field. 413: a larger body.");
        api.MapGet("/{id}", Status).WithName("getSweep").Produces<SweepStatus>().Produces<ApiError>(404)
            .WithSummary("The sweep's status, as `sweep status ID --json` prints it.");
        api.MapGet("/{id}/front", Front).WithName("getFront").Produces<FrontReport>().Produces<ApiError>(404)
            .WithSummary("Both Pareto fronts (front.json).");
        api.MapGet("/{id}/trials", Trials).WithName("listTrials").Produces<TrialPage>().Produces<ApiError>(400).Produces<ApiError>(404)
            .WithSummary("Finished trials in the order the cluster stored them: ?offset= (default 0) &limit= (1–1000, default 100).");
        api.MapGet("/{id}/trials/{trialId}", Trial).WithName("getTrial").Produces<TrialResult>().Produces<ApiError>(404)
            .WithSummary("One trial: its result line with epochs and layers, or its progress while it runs.");
        api.MapPost("/{id}/cancel", Cancel).WithName("cancelSweep").Produces<SweepStatus>().Produces<ApiError>(404)
            .WithSummary("Stops the sweep's running trials and starts no more; answers the status.");
        api.MapGet("/{id}/events", Events).WithName("watchSweep").Produces(200, contentType: "text/event-stream")
            .Produces<ApiError>(400).Produces<ApiError>(404)
            .WithSummary("Server-Sent Events: 'status' (on every change), 'front' (when a front changes), 'results' "
                + "(finished trials as they land, in stored order, from ?from= or Last-Event-ID), 'end' when the sweep is over.");
        api.MapGet("/{id}/points", Points).WithName("getPoints").Produces<JsonElement>().Produces<ApiError>(400).Produces<ApiError>(404)
            .WithSummary("Every finished trial in columns (the dashboard's data): measures, varying parameters, hypervolume series.");
    }

    /// <summary>An error answer every route of the group can give, with the API's one-line body.</summary>
    private static ProducesResponseTypeMetadata Answer(int status) => new(status, typeof(ApiError), ["application/json"]);

    private static async Task<IResult> Guard(Func<Task<IResult>> handler)
    {
        try { return await handler(); }
        catch (KeyNotFoundException e) { return Error(404, e.Message); }
        catch (SpecException e) { return Error(400, $"sweep: {e.Message}"); }
        catch (SweepConflictException e) { return Error(409, $"sweep: id: {e.Message}"); }
        catch (ClusterUnreachableException e) { return Error(503, e.Message); }
        catch (OperationCanceledException) { return Results.Empty; }
        // Kestrel refuses a body over its limit while the handler reads it: the answer is the API's one-line error.
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Error(413, $"sweep: spec: the request body is larger than the API's limit of {SweepApiServer.MaxBodyBytes >> 20} MiB");
        }
        catch (BadHttpRequestException e) { return Error(e.StatusCode, $"sweep: request: {e.Message}"); }
        catch (Exception e) when (e is TimeoutException or Orleans.Runtime.OrleansException)
        {
            return Error(503, $"the cluster did not answer: {e.Message}");
        }
    }

    private static Task<IResult> List(SweepClient client, CancellationToken ct) =>
        Guard(async () => Json(await client.ListAsync(ct)));

    private static Task<IResult> Submit(HttpRequest request, SweepClient client, string? id, CancellationToken ct) => Guard(async () =>
    {
        string body;
        using (var reader = new StreamReader(request.Body)) body = await reader.ReadToEndAsync(ct);
        if (string.IsNullOrWhiteSpace(body)) return Error(400, "sweep: spec: the request body is empty (send a spec's JSON)");
        if (id is not null && SpecParser.IdProblem(id) is { } problem) return Error(400, $"sweep: id: {problem}");
        // Relative dataset paths resolve against the silo's working folder; the silo's data policy decides what may be read.
        var spec = SpecParser.Parse(body, null);
        // A sweep of this id with the same spec: the answer of the first submit, nothing changes (a retried POST).
        bool existed = id is not null && await ExistsAsync(client, id, ct);
        string sweepId = await client.SubmitAsync(spec, null, id, ct);
        return Results.Json(new SubmitAnswer(sweepId), SweepJson.Options, statusCode: existed ? 200 : 201);
    });

    private static async Task<bool> ExistsAsync(SweepClient client, string id, CancellationToken ct)
    {
        try
        {
            await client.GetStatusAsync(id, ct);
            return true;
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }

    private static Task<IResult> Status(string id, SweepClient client, CancellationToken ct) =>
        Guard(async () => Json(await client.GetStatusAsync(id, ct)));

    private static Task<IResult> Front(string id, SweepClient client, CancellationToken ct) =>
        Guard(async () => Json(await client.GetFrontAsync(id, ct)));

    private static Task<IResult> Cancel(string id, SweepClient client, CancellationToken ct) =>
        Guard(async () => Json(await client.CancelAsync(id, ct)));

    /// <summary>
    /// A whole-number query parameter (bound by hand: a value ASP.NET Core cannot bind would answer 400 with no body).
    /// </summary>
    private static bool TryQuery(string? text, string name, long min, long max, long fallback, out long value, out IResult? error)
    {
        error = null;
        value = fallback;
        if (text is null) return true;
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value)
            && value >= min && value <= max)
            return true;
        error = Error(400, max == long.MaxValue
            ? $"sweep: {name}: must be a whole number ≥ {min}, got '{text}'"
            : $"sweep: {name}: must be a whole number in [{min}, {max}], got '{text}'");
        return false;
    }

    private static Task<IResult> Trials(string id, SweepClient client, string? offset, string? limit, CancellationToken ct) =>
        Guard(async () =>
        {
            if (!TryQuery(offset, "offset", 0, long.MaxValue, 0, out long from, out var bad)) return bad!;
            if (!TryQuery(limit, "limit", 1, MaxLimit, 100, out long count, out bad)) return bad!;
            var status = await client.GetStatusAsync(id, ct);
            var trials = await client.GetResultsPageAsync(id, from, (int)count, ct);
            return Json(new TrialPage(id, from, (int)count, status.Done, trials));
        });

    private static Task<IResult> Trial(string id, string trialId, SweepFeeds feeds, CancellationToken ct) => Guard(async () =>
    {
        var feed = feeds.Get(id);
        if (!await feed.RefreshAsync(TimeSpan.FromSeconds(1), ct)) return Error(404, $"no sweep '{id}' in this cluster");
        if (feed.PositionOf(trialId) is int position)
        {
            var page = await feeds.Client.GetResultsPageAsync(id, position, 1, ct);
            if (page.Count == 1 && page[0].TrialId == trialId) return Json(page[0]);
        }
        var running = (await feeds.Client.GetRunningAsync(id, ct)).FirstOrDefault(t => t.TrialId == trialId);
        if (running is not null)
            return Json(new { trialId, sweepId = id, status = TrialStatus.Running, running.Epoch, running.Epochs, running.Silo });
        return Error(404, $"no finished or running trial '{trialId}' in sweep '{id}'");
    });

    private static async Task Events(string id, HttpContext context, SweepFeeds feeds, string? from)
    {
        var ct = context.RequestAborted;
        // Last-Event-ID (a reconnecting EventSource, which repeats its first URL) wins over ?from=.
        string? lastId = context.Request.Headers["Last-Event-ID"];
        if (!TryQuery(string.IsNullOrEmpty(lastId) ? from : lastId, string.IsNullOrEmpty(lastId) ? "from" : "Last-Event-ID", 0,
                int.MaxValue, 0, out long start, out var bad))
        {
            await bad!.ExecuteAsync(context);
            return;
        }
        var feed = feeds.Get(id);
        Interlocked.Increment(ref feed.Watchers);
        try
        {
            // Errors of the first read answer as every route's do (404, 503 with a body); then the stream starts.
            var first = await Guard(async () => await feed.RefreshAsync(TimeSpan.FromSeconds(1), ct)
                ? Streaming : Error(404, $"no sweep '{id}' in this cluster"));
            if (!ReferenceEquals(first, Streaming))
            {
                await first.ExecuteAsync(context);
                return;
            }
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            var body = context.Response.Body;
            await body.WriteAsync("retry: 2000\n\n"u8.ToArray(), ct);
            int cursor = (int)start;
            byte[]? sentStatus = null, sentFront = null;
            while (!ct.IsCancellationRequested)
            {
                var changed = feed.Changed;
                var seen = feed.Status;   // read first: the events below are at least as new (SweepFeed publishes them first)
                if (feed.FrontEvent is { } front && !ReferenceEquals(front, sentFront)) await body.WriteAsync(sentFront = front, ct);
                while (cursor < feed.Count)
                {
                    await body.WriteAsync(feed.ResultsEvent(cursor, out int next), ct);
                    cursor = next;
                }
                if (feed.StatusEvent is { } status && !ReferenceEquals(status, sentStatus)) await body.WriteAsync(sentStatus = status, ct);
                await body.FlushAsync(ct);
                if (seen is { IsFinished: true, Running: 0 } && cursor >= seen.Done)
                {
                    await body.WriteAsync("event: end\ndata: {}\n\n"u8.ToArray(), ct);
                    await body.FlushAsync(ct);
                    return;
                }
                // Wake on a change, or every 15 s to send a comment that keeps proxies from closing an idle stream.
                var woke = await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(15), ct));
                if (woke != changed && !ct.IsCancellationRequested) await body.WriteAsync(": keep-alive\n\n"u8.ToArray(), ct);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }   // the watcher went away
        finally
        {
            Interlocked.Decrement(ref feed.Watchers);
        }
    }

    private static Task<IResult> Points(string id, SweepFeeds feeds, string? from, CancellationToken ct) => Guard(async () =>
    {
        if (!TryQuery(from, "from", 0, int.MaxValue, 0, out long start, out var bad)) return bad!;
        var feed = feeds.Get(id);
        if (!await feed.RefreshAsync(TimeSpan.FromMilliseconds(250), ct)) return Error(404, $"no sweep '{id}' in this cluster");
        return Results.Bytes(DashboardData.Points(feed, (int)start), "application/json");
    });
}

public sealed record ApiError(string Error);

public sealed record SubmitAnswer(string Id);

/// <summary>A page of finished trials: result lines of interface.md, <see cref="Total"/> finished so far.</summary>
public sealed record TrialPage(string SweepId, long Offset, int Limit, long Total, IReadOnlyList<TrialResult> Trials);
