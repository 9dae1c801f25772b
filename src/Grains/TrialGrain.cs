using Sweep.Core.Data;
using Sweep.Core.Search;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Sweep.Core.Models;
using Sweep.Grains.Resilience;
using Sweep.Grains.Slots;
using Sweep.Grains.Trials;
using Sweep.Core.Telemetry;
using Sweep.Training;
using Sweep.Training.Data;

namespace Sweep.Grains;

/// <summary>
/// Owns one trial (key "sweepId/trialId"). Training runs on a thread of its own inside one of the silo's training
/// slots, never on the Orleans scheduler; epochs go to the coordinator in the silo's per-second progress batch. The
/// result is stored before it is reported, so a finished trial is never run again; once the coordinator has put it in
/// the sweep's result store, the trial forgets it (its state is cleared and the activation goes), so finished sweeps
/// leave no trial state behind. A silo that stops hands its running trials back (no result is stored), and the
/// coordinator starts them again elsewhere.
/// </summary>
[FreeSlotPlacement]   // only on silos with free training slots
// A trained trial's result is in storage: its idle activation goes after 2 minutes, not Orleans' default 15, so a silo
// that runs thousands of trials a minute does not hold them all. A running trial delays its own deactivation.
[CollectionAgeLimit(Minutes = 2)]
public sealed class TrialGrain(
    [PersistentState("trial", SweepStorage.Name)] IPersistentState<TrialGrainState> state,
    TrialSlotPool slots,
    IOptions<TrialSlotOptions> slotOptions,
    SweepResilience resilience,
    ProgressReporter progress,
    ILocalSiloDetails silo,
    ILogger<TrialGrain> logger) : Grain, ITrialGrain
{
    private Task? _run;
    private CancellationTokenSource? _cancel;
    private bool _handingBack;
    private bool _savingResult;
    private bool _forgetAsked;
    // The attempt training now (early stopping: where and why the coordinator stopped it, and its epochs).
    private TrialAttempt? _attempt;

    public Task<TrialStart> StartAsync(TrialRequest request)
    {
        // A result is handed out only once it is in storage (it is being written while the run reports it).
        if (state.State.Result is { } done && !_savingResult) return Task.FromResult(new TrialStart(silo.SiloAddress, silo.Name, done));
        if (_run is null || _run.IsCompleted)
        {
            _cancel = new CancellationTokenSource();
            _forgetAsked = false;
            _run = RunAsync(request, _cancel.Token);
        }
        return Task.FromResult(new TrialStart(silo.SiloAddress, silo.Name, null));
    }

    public async Task ForgetAsync()
    {
        // Running, never ran, or still reporting: the run forgets by itself once its report is acknowledged, or, when its
        // report fails (its coordinator's silo died), because the coordinator asked here after collecting the result.
        if (_run is { IsCompleted: false })
        {
            _forgetAsked = true;
            return;
        }
        if (state.State.Result is null) return;
        await ForgetResultAsync();
    }

    /// <summary>The result is in the sweep's store: storage keeps nothing of this trial and the activation goes.</summary>
    private async Task ForgetResultAsync()
    {
        try
        {
            await resilience.StorageWrite.RunOnGrainAsync(_ => state.ClearStateAsync(), CancellationToken.None);
        }
        catch (Exception e)
        {
            // Left behind, it costs storage only: `sweep delete` removes what a sweep's trials left.
            logger.LogWarning("Trial {Trial}: clearing its stored result failed ({Reason})", this.GetPrimaryKeyString(), e.Message);
        }
        DeactivateOnIdle();
    }

    public Task CancelAsync()
    {
        _cancel?.Cancel();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_run is not { IsCompleted: false } run) return;
        // The silo is stopping (or the grain is moved): stop between steps and leave no result, so it runs again elsewhere.
        _handingBack = true;
        _cancel?.Cancel();
        await run.WaitAsync(cancellationToken)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        logger.LogInformation("Trial {Trial} handed back ({Reason})", this.GetPrimaryKeyString(), reason.Description);
    }

    private async Task RunAsync(TrialRequest request, CancellationToken cancellationToken)
    {
        TrialResult result;
        try
        {
            result = await AttemptAsync(request, cancellationToken);
        }
        catch (OperationCanceledException) when (_handingBack)
        {
            return;
        }
        catch (Exception e)
        {
            // Nothing may escape a background task: record the trial as failed instead.
            logger.LogError(e, "Trial {Trial} failed outside training", request.TrialId);
            result = Ended(request, TrialStatus.Failed, $"{e.GetType().Name}: {e.Message}");
        }
        if (_handingBack) return;
        (result.Status switch
        {
            TrialStatus.Completed => SweepTelemetry.TrialsCompleted,
            TrialStatus.Failed => SweepTelemetry.TrialsFailed,
            TrialStatus.Stopped => SweepTelemetry.TrialsStopped,
            _ => SweepTelemetry.TrialsCancelled,
        }).Add(1);
        _savingResult = true;
        state.State.Result = result;
        try
        {
            await resilience.StorageWrite.RunOnGrainAsync(_ => state.WriteStateAsync(), CancellationToken.None);
        }
        finally
        {
            _savingResult = false;
        }
        await ReportAsync(request.SweepId, result);
    }

    /// <summary>Runs attempts until one completes, a deterministic failure ends the trial, or the attempts are used up.</summary>
    private async Task<TrialResult> AttemptAsync(TrialRequest request, CancellationToken cancellationToken)
    {
        var settings = new TrialSettings(request.Params, request.Dataset, request.TrainLimit);
        string siloName = silo.Name;
        int failuresBefore = state.State.AttemptErrors.Count;
        string? modelPath = null, modelError = null;
        if (request.SaveModels)
        {
            modelPath = slotOptions.Value.ModelPath(request.SweepId, request.TrialId);
            if (modelPath is null)
            {
                // The trial is still worth its result; the result says why there is no model.
                modelError = $"not saved: silo {siloName} has no models directory (Sweep:ModelsDirectory)";
                logger.LogWarning("Trial {Trial}: the spec asks to save models, but this silo has no Sweep:ModelsDirectory",
                    request.TrialId);
            }
        }
        // A trial stopped at a rung is not retried, whatever its training threw on the way out.
        var attempts = resilience.TrialAttempts(request.MaxAttempts - failuresBefore, e => _attempt?.Stop is null && Retryable(e),
            request.TrialId);
        // maxTrialSeconds: the trial (all its attempts on this activation) stops at the limit and fails, not retried.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (request.MaxTrialSeconds is { } seconds) limit.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            var report = await attempts.RunOnGrainAsync(async ct =>
            {
                state.State.Attempts++;
                await resilience.StorageWrite.RunOnGrainAsync(_ => state.WriteStateAsync(), CancellationToken.None);
                using var span = SweepTelemetry.Source.StartActivity("trial", ActivityKind.Internal,
                    SweepTelemetry.Parent(request.TraceParent));
                if (span is not null)
                {
                    SweepTelemetry.TagParameters(span, request.Params);
                    span.SetTag("trial_id", request.TrialId);
                    span.SetTag("sweep_id", request.SweepId);
                    span.SetTag("silo", siloName);
                    span.SetTag("attempt", state.State.Attempts);
                }
                SweepTelemetry.TrialsStarted.Add(1);
                SweepTelemetry.TrialsInFlight.Add(1);
                var attempt = _attempt = new TrialAttempt(request, siloName, slots, progress,
                    request.Rungs.Count > 0 ? GrainFactory.GetGrain<ISweepCoordinatorGrain>(request.SweepId) : null, logger);
                try
                {
                    // Keep the activation while it trains, however long that takes; then it is collected like any idle one.
                    DelayDeactivation(TimeSpan.FromDays(1));
                    var trained = await attempt.TrainAsync(settings, modelPath, span?.Context ?? default, ct);
                    DelayDeactivation(TimeSpan.FromSeconds(-1));
                    span?.SetTag("status", "completed");
                    span?.SetTag("device", trained.Device);
                    span?.SetTag("accuracy", trained.Accuracy);
                    span?.SetTag("weight_sparsity", trained.WeightSparsity);
                    span?.SetTag("node_sparsity", trained.NodeSparsity);
                    return trained;
                }
                catch (OperationCanceledException)
                {
                    span?.SetTag("status", _handingBack ? "handed_back" : attempt.Stop is not null ? "stopped" : "cancelled");
                    throw;
                }
                catch (Exception e)
                {
                    string reason = Describe(e);
                    state.State.AttemptErrors.Add(reason);
                    span?.SetTag("status", "failed");
                    span?.SetStatus(ActivityStatusCode.Error, reason);
                    throw;
                }
                finally
                {
                    SweepTelemetry.TrialsInFlight.Add(-1);
                }
            }, limit.Token);
            return TrialMapping.Completed(request.TrialId, request.SweepId, request.Params, report, siloName, state.State.Attempts)
                with { ModelPath = modelPath, ModelError = modelError };
        }
        // Stopped at a rung: whatever the cancelled training threw on its way out.
        catch (Exception) when (_attempt?.Stop is not null && !cancellationToken.IsCancellationRequested)
        {
            return _attempt!.Stopped(state.State.Attempts);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (_handingBack) throw;
            return Ended(request, TrialStatus.Cancelled, "cancelled");
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            return Ended(request, TrialStatus.Failed,
                $"stopped after maxTrialSeconds ({request.MaxTrialSeconds} s) on silo {siloName}");
        }
        catch (Exception e)
        {
            return Ended(request, TrialStatus.Failed, Describe(e));
        }
    }

    /// <summary>
    /// Divergence and bad settings are deterministic (the same seed diverges again); everything else may be transient,
    /// including a dataset file missing on one node but present on another.
    /// </summary>
    private static bool Retryable(Exception e) =>
        e is not (TrainingDivergedException or InvalidSettingException or OperationCanceledException
            or DatasetRefusedException);

    private async Task ReportAsync(string sweepId, TrialResult result)
    {
        var coordinator = GrainFactory.GetGrain<ISweepCoordinatorGrain>(sweepId);
        try
        {
            await resilience.ClientCall.RunOnGrainAsync(_ => coordinator.ReportResultAsync(result), CancellationToken.None);
        }
        catch (Exception e)
        {
            // The result is stored here: the coordinator collects it when it starts this trial again.
            // A coordinator that collected it already (it started this trial again and got the stored result) asked to
            // forget it meanwhile: nothing else will ask again.
            if (_forgetAsked) await ForgetResultAsync();
            else
                logger.LogWarning("Trial {Trial}: reporting to the coordinator failed ({Reason}); it will be collected later",
                    result.TrialId, e.Message);
            return;
        }
        // Acknowledged: the result is in the sweep's store now.
        await ForgetResultAsync();
    }

    private TrialResult Ended(TrialRequest r, TrialStatus status, string error) => TrialOutcome.Ended(r.SweepId, r.TrialId, r.Params,
        status, status == TrialStatus.Failed && state.State.AttemptErrors.Count > 1
            ? string.Join(" | ", state.State.AttemptErrors.Select((m, i) => $"attempt {i + 1}: {m}"))
            : error) with { Silo = silo.Name, Attempts = state.State.Attempts };

    private static string Describe(Exception e) => e is TrainingDivergedException or InvalidSettingException or DatasetException
        ? e.Message
        : $"{e.GetType().Name}: {e.Message}";
}
