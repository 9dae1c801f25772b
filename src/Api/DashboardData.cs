using System.Text.Json;
using Sweep.Core;
using Sweep.Core.Models;

namespace Sweep.Api;

/// <summary>
/// The dashboard's data in columns: one array per measure and per parameter that varies, strings as indexes into a
/// dictionary. 100,000 trials fit in a few MB (about a tenth of the same rows as objects) and draw without parsing
/// objects one by one.
/// </summary>
public static class DashboardData
{
    public static byte[] Points(SweepFeed feed, int from)
    {
        var status = feed.Status;
        var front = feed.Front;
        if (from == 0 && feed.PointsCache is { } cached && cached.Count == feed.Count && cached.Version == status?.Version
            && ReferenceEquals(cached.Front, front))
            return cached.Bytes;
        var rows = feed.Rows(from, int.MaxValue);
        var bytes = Build(feed, from, rows, status, front);
        if (from == 0) feed.PointsCache = new PointsAnswer(rows.Length, status?.Version ?? -1, front, bytes);
        return bytes;
    }

    private static byte[] Build(SweepFeed feed, int from, TrialRow[] rows, SweepStatus? status, FrontReport? front)
    {
        using var buffer = new MemoryStream(rows.Length * 64 + 1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("sweepId", feed.SweepId);
            w.WriteNumber("from", from);
            w.WriteNumber("count", rows.Length);
            w.WritePropertyName("objectives");
            JsonSerializer.Serialize(w, front?.Objectives ?? ["accuracy", "weightSparsity"], SweepJson.Options);
            w.WritePropertyName("status");
            JsonSerializer.Serialize(w, status, SweepJson.Options);
            w.WriteStartArray("hypervolume");
            foreach (var p in feed.HypervolumeSeries())
            {
                if (p.Done <= from) continue;
                w.WriteStartArray();
                w.WriteNumberValue(p.Done);
                w.WriteNumberValue(p.Hypervolume);
                w.WriteNumberValue(p.NodeHypervolume);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartObject("columns");
            Strings(w, "trialId", rows.Select(r => r.TrialId), dictionary: false);
            Strings(w, "status", rows.Select(r => JsonNamingPolicy.CamelCase.ConvertName(r.Status.ToString())), dictionary: true);
            Numbers(w, "accuracy", rows.Select(r => r.Accuracy));
            Numbers(w, "weightSparsity", rows.Select(r => r.WeightSparsity));
            Numbers(w, "nodeSparsity", rows.Select(r => r.NodeSparsity));
            Numbers(w, "seconds", rows.Select(r => (double?)r.Seconds));
            Strings(w, "silo", rows.Select(r => r.Silo), dictionary: true);
            w.WriteEndObject();
            // Parameters: every property of the params object, numbers as numbers and anything else as text.
            var columns = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
            for (int i = 0; i < rows.Length; i++)
            {
                var element = JsonSerializer.SerializeToElement(rows[i].Params, SweepJson.Options);
                foreach (var property in element.EnumerateObject())
                {
                    if (!columns.TryGetValue(property.Name, out var column))
                        columns[property.Name] = column = new List<JsonElement>(rows.Length);
                    while (column.Count < i) column.Add(default);
                    column.Add(property.Value);
                }
            }
            w.WriteStartObject("params");
            foreach (var (name, column) in columns)
            {
                while (column.Count < rows.Length) column.Add(default);
                bool numeric = column.All(e => e.ValueKind is JsonValueKind.Number or JsonValueKind.Undefined or JsonValueKind.Null);
                // Parameters exactly (λ = 1e-7 is not 0); measures to 6 decimals.
                if (numeric)
                    Numbers(w, name, column.Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : (double?)null), round: false);
                else Strings(w, name, column.Select(Text), dictionary: true);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Undefined or JsonValueKind.Null => "",
        _ => e.GetRawText(),
    };

    private static void Numbers(Utf8JsonWriter w, string name, IEnumerable<double?> values, bool round = true)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            if (v is double d && double.IsFinite(d)) w.WriteNumberValue(round ? Math.Round(d, 6) : d);
            else w.WriteNullValue();
        }
        w.WriteEndArray();
    }

    /// <summary>A string column; as a dictionary: {"values": [...distinct], "index": [...]}.</summary>
    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values, bool dictionary)
    {
        if (!dictionary)
        {
            w.WriteStartArray(name);
            foreach (var v in values) w.WriteStringValue(v);
            w.WriteEndArray();
            return;
        }
        var distinct = new Dictionary<string, int>(StringComparer.Ordinal);
        var index = new List<int>();
        foreach (var v in values)
        {
            if (!distinct.TryGetValue(v, out int i)) distinct[v] = i = distinct.Count;
            index.Add(i);
        }
        w.WriteStartObject(name);
        w.WriteStartArray("values");
        foreach (var v in distinct.Keys) w.WriteStringValue(v);
        w.WriteEndArray();
        w.WriteStartArray("index");
        foreach (int i in index) w.WriteNumberValue(i);
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
