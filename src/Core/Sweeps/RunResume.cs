using System.Text.Json;
using Sweep.Core.Models;

namespace Sweep.Core.Sweeps;

/// <summary>One line of a results file as read back: its number (from 1), its text, and the result it holds if it parses.</summary>
public sealed record StoredLine(int Number, string Text, TrialResult? Result)
{
    /// <summary>Reads a line; one that is not a trial result has a null <see cref="Result"/>.</summary>
    public static StoredLine Parse(int number, string text)
    {
        TrialResult? result = null;
        try { result = JsonSerializer.Deserialize<TrialResult>(text, SweepJson.Options); }
        catch (JsonException) { }
        catch (NotSupportedException) { }
        // Nulls where the schema has objects and lists (`"epochs": null`, `"params": null`) are not a result either.
        bool whole = result is { TrialId.Length: > 0, Params: not null, Epochs: not null, Layers: not null }
            && result.Epochs.All(e => e is not null) && result.Layers.All(l => l is not null);
        return new StoredLine(number, text, whole ? result : null);
    }
}

/// <summary>A line a resumed run does not trust, and why.</summary>
public sealed record RejectedLine(string File, StoredLine Line, string Reason);

/// <summary>
/// What a resumed run does with the results its folder holds (docs/interface.md, "Resuming a run"): which it keeps for
/// the current plan, which it sets aside, and which it rejects. Nothing is dropped: every line read is kept, set aside
/// or rejected.
/// </summary>
/// <param name="Kept">Completed, valid results of planned trials, one per trial, as stored (with the sweep id they had).</param>
/// <param name="SetAside">Results of the same data the plan does not use (outside it, failed, or a second copy).</param>
/// <param name="Returned">Lines of the set-aside file whose results are kept again (they move back to trials.jsonl).</param>
/// <param name="Rejected">Lines that are not a valid result of the trial they name; their trials run again.</param>
/// <param name="Offered">Completed results of the same data outside the plan: an nsga2 sweep may propose their trials.</param>
public sealed record RunResume(
    IReadOnlyList<TrialResult> Kept,
    IReadOnlyList<StoredLine> SetAside,
    IReadOnlyList<StoredLine> Returned,
    IReadOnlyList<RejectedLine> Rejected,
    IReadOnlyList<TrialResult> Offered)
{
    /// <summary>
    /// Decides a resumed run. <paramref name="current"/>: the lines of trials.jsonl, trained on the current data;
    /// <paramref name="earlier"/>: the lines set aside earlier for the same data. A completed result in trials.jsonl wins
    /// over one set aside; the first of two for one trial wins. <paramref name="usable"/> says whether a completed result
    /// can serve (a spec that saves models needs the model file).
    /// </summary>
    public static RunResume Decide(IReadOnlyList<TrialPlan> plans, string currentFile, IReadOnlyList<StoredLine> current,
        IReadOnlyList<StoredLine> earlier, Func<TrialResult, bool>? usable = null)
    {
        ArgumentNullException.ThrowIfNull(plans);
        var byId = plans.ToDictionary(p => p.TrialId, StringComparer.Ordinal);
        var kept = new List<TrialResult>();
        var keptIds = new HashSet<string>(StringComparer.Ordinal);
        var setAside = new List<StoredLine>();
        var returned = new List<StoredLine>();
        var rejected = new List<RejectedLine>();
        var offered = new List<TrialResult>();
        var offeredIds = new HashSet<string>(StringComparer.Ordinal);
        var keptTexts = new HashSet<string>(StringComparer.Ordinal);

        // Returns whether the line's result is kept.
        bool Take(StoredLine line)
        {
            var r = line.Result!;
            if (r.Status != TrialStatus.Completed || keptIds.Contains(r.TrialId) || (usable is not null && !usable(r))) return false;
            if (!byId.TryGetValue(r.TrialId, out var plan))
            {
                if (offeredIds.Add(r.TrialId)) offered.Add(r);
                return false;
            }
            if (ResultCheck.Problem(r, plan) is not null) return false;
            keptIds.Add(r.TrialId);
            kept.Add(r);
            return true;
        }

        foreach (var line in current)
        {
            if (line.Result is not { } r)
                rejected.Add(new RejectedLine(currentFile, line, "not a trial result"));
            else if (byId.TryGetValue(r.TrialId, out var plan) && ResultCheck.Problem(r, plan) is { } problem)
                rejected.Add(new RejectedLine(currentFile, line, problem));
            else if (Take(line))
                keptTexts.Add(line.Text);
            else
                setAside.Add(line);
        }
        // A set-aside copy of a kept line (a move cut short by a kill) goes too.
        foreach (var line in earlier)
        {
            if (keptTexts.Contains(line.Text) || (line.Result is not null && Take(line))) returned.Add(line);
        }
        return new RunResume(kept, setAside, returned, rejected, offered.Where(o => !keptIds.Contains(o.TrialId)).ToList());
    }
}
