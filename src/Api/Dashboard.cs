using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Sweep.Api;

/// <summary>The dashboard's static files, embedded in this assembly (wwwroot/): nothing is fetched from anywhere else.</summary>
public static class Dashboard
{
    private static readonly FrozenDictionary<string, (byte[] Bytes, string Type)> Files = Load();

    private static FrozenDictionary<string, (byte[] Bytes, string Type)> Load()
    {
        var assembly = typeof(Dashboard).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            string type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            files[name["wwwroot/".Length..]] = (copy.ToArray(), type);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Serve("index.html")).ExcludeFromDescription();
        app.MapGet("/assets/{name}", (string name) => Serve(name)).ExcludeFromDescription();
    }

    private static IResult Serve(string name) => Files.TryGetValue(name, out var file)
        ? Results.Bytes(file.Bytes, file.Type)
        : Results.NotFound();
}
