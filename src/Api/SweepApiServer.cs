using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using Sweep.Client;

namespace Sweep.Api;

/// <summary>Where and how the API listens (Sweep:Http on silos; `sweep run --ui` on 127.0.0.1).</summary>
public sealed class SweepApiSettings
{
    /// <summary>The address to listen on; loopback unless the operator says otherwise.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;
    /// <summary>The TCP port; 0 = any free port (<see cref="SweepApiServer.Url"/> tells which).</summary>
    public int Port { get; init; }
    /// <summary>The bearer token every /api request must carry (the cluster's client credential); null = none asked.</summary>
    public string? Token { get; init; }
    /// <summary>Serve HTTPS with this certificate (the silo's own, Sweep:TlsDirectory); null = plain HTTP.</summary>
    public X509Certificate2? Certificate { get; init; }
}

/// <summary>The HTTP API and the dashboard over a cluster client: a small Kestrel app, started and stopped by its host.</summary>
public sealed class SweepApiServer : IAsyncDisposable
{
    /// <summary>The largest request body the API reads (a spec is at most 1 MiB): a larger one is answered 413.</summary>
    public const long MaxBodyBytes = 2 << 20;

    private readonly WebApplication _app;

    private SweepApiServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The base address the server answers at, e.g. http://127.0.0.1:8765/.</summary>
    public string Url { get; }

    public static async Task<SweepApiServer> StartAsync(
        SweepClient client, SweepApiSettings settings, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "Sweep.Api" });
        builder.Logging.ClearProviders();
        if (loggerFactory is not null) builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            k.Listen(settings.Address, settings.Port, listen =>
            {
                if (settings.Certificate is { } certificate) listen.UseHttps(certificate);
            });
        });
        builder.Services.AddSingleton(client);
        builder.Services.AddSingleton<SweepFeeds>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SweepFeeds>());
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            Describe(document, settings.Token is not null);
            return Task.CompletedTask;
        }));
        builder.Services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ["application/json", "text/html", "text/javascript", "text/css"];
        });
        builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        var app = builder.Build();
        app.Use(SameOriginOnly(settings.Token is null));
        if (settings.Token is { } token) app.Use(RequireToken(token));
        app.UseResponseCompression();
        SweepApi.Map(app);
        app.MapOpenApi("/openapi/{documentName}.json");
        Dashboard.Map(app);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // Kestrel reports the address it bound; a client wants the loopback name it can type.
        var uri = new Uri(address);
        string host = IPAddress.Any.Equals(settings.Address) || IPAddress.IPv6Any.Equals(settings.Address) ? "127.0.0.1" : uri.Host;
        return new SweepApiServer(app, $"{uri.Scheme}://{host}:{uri.Port}/");
    }

    /// <summary>
    /// What the generated OpenAPI document cannot know: the title, the bearer scheme (applied to every operation when this
    /// server asks for a token; optional otherwise), the tag's description, and server URLs without a trailing slash.
    /// </summary>
    private static void Describe(OpenApiDocument document, bool tokenRequired)
    {
        document.Info = new() { Title = "Sweep", Version = "v1", Description = SweepApi.Description };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The cluster's client credential (Sweep:ClientToken, the file `sweep silo` prints): "
                + "'Authorization: Bearer TOKEN'. An API without a credential (`sweep run --ui`, loopback) ignores it.",
        };
        var bearer = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] };
        // Without a credential the scheme is optional: an empty requirement is "no authentication".
        document.Security = tokenRequired ? [bearer] : [bearer, new OpenApiSecurityRequirement()];
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "sweeps", Description = "Sweeps: submit, watch, read results and fronts, cancel." },
        };
        foreach (var server in document.Servers ?? []) server.Url = server.Url?.TrimEnd('/');
    }

    /// <summary>The name of the bearer security scheme in the OpenAPI document.</summary>
    public const string BearerScheme = "bearer";

    /// <summary>
    /// Other web sites' pages may not drive the API through a user's browser: a request whose Origin is not this server
    /// is refused (403; browsers send Origin with every cross-site fetch and form POST, and a page cannot forge it).
    /// Without a token (a laptop's loopback API), the Host must be a loopback name as well: a DNS-rebinding page, whose
    /// Host is its own name, gets 403 too.
    /// </summary>
    private static Func<HttpContext, RequestDelegate, Task> SameOriginOnly(bool loopbackHostOnly)
    {
        return (context, next) =>
        {
            var request = context.Request;
            string host = request.Host.Host;
            if (loopbackHostOnly && !(host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip))))
                return SweepApi.Error(403, $"this API answers on loopback names only, not '{host}'").ExecuteAsync(context);
            string origin = request.Headers.Origin.ToString();
            if (origin.Length > 0 && !(Uri.TryCreate(origin, UriKind.Absolute, out var o)
                && o.Scheme.Equals(request.Scheme, StringComparison.OrdinalIgnoreCase)
                && $"{o.Host}:{o.Port}".Equals($"{host}:{request.Host.Port ?? (request.IsHttps ? 443 : 80)}",
                    StringComparison.OrdinalIgnoreCase)))
                return SweepApi.Error(403, $"cross-origin requests are refused (Origin {origin})").ExecuteAsync(context);
            return next(context);
        };
    }

    /// <summary>Every /api request must carry "Authorization: Bearer TOKEN" (compared in constant time), else 401.</summary>
    private static Func<HttpContext, RequestDelegate, Task> RequireToken(string token)
    {
        byte[] expected = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        return (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/api")) return next(context);
            string header = context.Request.Headers.Authorization.ToString();
            bool ok = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header[7..].Trim())), expected);
            if (ok) return next(context);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return SweepApi.Error(401, "this API requires the cluster's client credential: Authorization: Bearer TOKEN")
                .ExecuteAsync(context);
        };
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(stop.Token); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync();
    }
}
