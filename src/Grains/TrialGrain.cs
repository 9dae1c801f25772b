using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Sweep.Grains.Models;
using Sweep.Grains.Slots;
using Sweep.Training;

namespace Sweep.Grains;

/// <summary>A trial grain's durable state: its result once it has one, and every attempt's failure.</summary>
[GenerateSerializer, Alias("Sweep.TrialGrainState")]
public sealed class TrialGrainState
{
    [Id(0)] public TrialResult? Result { get; set; }
    [Id(1)] public int Attempts { get; set; }
    [Id(2)] public List<string> AttemptErrors { get; set; } = [];
}

/// <summary>
/// Owns one trial (key "sweepId/trialId"). Training runs on a thread of its own inside one of the silo's
/// training slots, never on the Orleans scheduler; epochs flow back through a channel and are forwarded
/// to the coordinator on the grain's turn. The result is stored before it is reported, so a finished trial
/// is never run again.
/// </summary>
public sealed class TrialGrain(
    [PersistentState("trial", SweepStorage.Name)] IPersistentState<TrialGrainState> state,
    TrialSlotPool slots,
    ILocalSiloDetails silo,
    ILogger<TrialGrain> logger) : Grain, ITrialGrain
{
    private Task? _run;
    private CancellationTokenSource? _cancel;

    public Task<TrialResult?> StartAsync(TrialRequest request)
    {
        if (state.State.Result is { } done) return Task.FromResult<TrialResult?>(done);
        if (_run is null || _run.IsCompleted)
        {
            _cancel = new CancellationTokenSource();
            _run = RunAsync(request, _cancel.Token);
        }
        return Task.FromResult<TrialResult?>(null);
    }

    public Task CancelAsync()
    {
        _cancel?.Cancel();
        return Task.CompletedTask;
    }

    public Task<TrialResult?> GetResultAsync() => Task.FromResult(state.State.Result);

    private async Task RunAsync(TrialRequest request, CancellationToken cancellationToken)
    {
        TrialResult result;
        try
        {
            result = await AttemptUntilDoneAsync(request, cancellationToken);
        }
        catch (Exception e)
        {
            // Nothing may escape a background task: record the trial as failed instead.
            logger.LogError(e, "Trial {Trial} failed outside training", request.TrialId);
            result = Failed(request, state.State.Attempts, $"{e.GetType().Name}: {e.Message}");
        }
        state.State.Result = result;
        await state.WriteStateAsync();
        await ReportAsync(request.SweepId, result);
    }

    private async Task<TrialResult> AttemptUntilDoneAsync(TrialRequest request, CancellationToken cancellationToken)
    {
        var settings = TrialMapping.ToSettings(request.Params, request.Dataset, request.TrainLimit);
        var coordinator = GrainFactory.GetGrain<ISweepCoordinatorGrain>(request.SweepId);
        string siloName = silo.Name;
        while (true)
        {
            if (cancellationToken.IsCancellationRequested) return Cancelled(request);
            state.State.Attempts++;
            int attempt = state.State.Attempts;
            await state.WriteStateAsync();
            try
            {
                var report = await TrainInSlotAsync(settings, coordinator, request.TrialId, siloName, cancellationToken);
                return TrialMapping.Completed(request.TrialId, request.SweepId, request.Params, report, siloName, attempt);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Cancelled(request);
            }
            catch (Exception e) when (e is TrainingDivergedException or InvalidSettingException or Training.Data.DatasetException)
            {
                // Deterministic failures: the same seed diverges again, a bad setting stays bad.
                state.State.AttemptErrors.Add(e.Message);
                return Failed(request, attempt, e.Message);
            }
            catch (Exception e)
            {
                string reason = $"{e.GetType().Name}: {e.Message}";
                state.State.AttemptErrors.Add(reason);
                logger.LogWarning("Trial {Trial} attempt {Attempt} of {Max} failed: {Reason}", request.TrialId, attempt, request.MaxAttempts, reason);
                if (attempt >= request.MaxAttempts) return Failed(request, attempt, reason);
            }
        }
    }

    private async Task<TrialReport> TrainInSlotAsync(TrialSettings settings, ISweepCoordinatorGrain coordinator,
        string trialId, string siloName, CancellationToken cancellationToken)
    {
        using var slot = await slots.AcquireAsync(cancellationToken);
        var epochs = Channel.CreateUnbounded<EpochReport>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var training = Task.Factory.StartNew(
            () => TrialRunner.Run(settings, new TrainingOptions(slot.Device, slot.Threads), e => epochs.Writer.TryWrite(e), cancellationToken),
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _ = training.ContinueWith(_ => epochs.Writer.TryComplete(), TaskScheduler.Default);
        // Keep the activation while it trains, however long that takes.
        DelayDeactivation(TimeSpan.FromDays(1));
        await foreach (var e in epochs.Reader.ReadAllAsync(CancellationToken.None))
            coordinator.ReportEpochAsync(trialId, TrialMapping.ToRecord(e), siloName).Ignore();
        return await training;
    }

    private async Task ReportAsync(string sweepId, TrialResult result)
    {
        var coordinator = GrainFactory.GetGrain<ISweepCoordinatorGrain>(sweepId);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await coordinator.ReportResultAsync(result);
                return;
            }
            catch (Exception e) when (attempt < 5)
            {
                // The coordinator's silo may be moving; the result is stored, so retrying is safe.
                logger.LogWarning("Reporting trial {Trial} to its coordinator failed (attempt {Attempt}): {Reason}", result.TrialId, attempt, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
        }
    }

    private TrialResult Failed(TrialRequest r, int attempts, string error) => Ended(r, TrialStatus.Failed, attempts, error);

    private TrialResult Cancelled(TrialRequest r) => Ended(r, TrialStatus.Cancelled, state.State.Attempts, "cancelled");

    private TrialResult Ended(TrialRequest r, TrialStatus status, int attempts, string error) => new()
    {
        TrialId = r.TrialId,
        SweepId = r.SweepId,
        Status = status,
        Params = r.Params,
        Silo = silo.Name,
        Attempts = attempts,
        Error = state.State.AttemptErrors.Count > 1 ? string.Join(" | ", state.State.AttemptErrors.Select((m, i) => $"attempt {i + 1}: {m}")) : error,
    };
}

/// <summary>The name of the grain storage every Sweep grain uses.</summary>
public static class SweepStorage
{
    public const string Name = "sweep";
}
