using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sweep.Core.Models;
using Sweep.Core.Telemetry;
using Sweep.Grains.Slots;
using Sweep.Training;

namespace Sweep.Grains.Trials;

/// <summary>
/// One attempt at training a trial in the silo's slots: its epochs go to telemetry and to the coordinator's progress
/// batch; at an early-stopping rung the attempt asks its coordinator whether to go on (on the training thread, never the
/// grain's) and, told to stop, cancels itself: <see cref="Stop"/> then says where and why, and <see cref="Stopped"/> is
/// its result.
/// </summary>
internal sealed class TrialAttempt(TrialRequest request, string siloName, TrialSlotPool slots, ProgressReporter progress,
    ISweepCoordinatorGrain? coordinator, ILogger logger)
{
    private static readonly TimeSpan RungAnswerTimeout = TimeSpan.FromSeconds(10);
    private readonly List<EpochRecord> _epochs = [];

    /// <summary>Where and why early stopping stopped this attempt; null while it goes on.</summary>
    public (int Rung, string Reason)? Stop { get; private set; }

    public async Task<TrialReport> TrainAsync(TrialSettings settings, string? modelPath, ActivityContext span,
        CancellationToken cancellationToken)
    {
        // Early stopping cancels this attempt alone (it is then recorded stopped, not retried).
        using var early = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Progress goes to the coordinator in the silo's per-second batch, not one message per epoch.
        void OnEpoch(EpochRecord e)
        {
            SweepTelemetry.RecordEpoch(span, e, slots.DeviceKind, siloName);
            progress.Report(request.SweepId, request.TrialId, e.Epoch);
            lock (_epochs) _epochs.Add(e);
            if (coordinator is null || e.Epoch >= request.Params.Epochs || !request.Rungs.Contains(e.Epoch)) return;
            // A rung: asked and waited for, so a stopped trial trains no further epoch (a fused group waits with it: a few
            // milliseconds a rung). No answer: it goes on.
            string? reason;
            try
            {
                reason = coordinator.ReportRungAsync(request.TrialId, e).WaitAsync(RungAnswerTimeout).GetAwaiter().GetResult();
            }
            catch (Exception x)
            {
                logger.LogWarning("Trial {Trial}: no early-stopping answer at epoch {Epoch} ({Reason}); it goes on",
                    request.TrialId, e.Epoch, x.Message);
                return;
            }
            if (reason is null) return;
            Stop = (e.Epoch, reason);
            early.Cancel();
        }
        // The silo's slots train it (fused with compatible trials when they can), off the Orleans scheduler.
        return await slots.TrainAsync(settings, request.SweepId, OnEpoch, early.Token, modelPath);
    }

    /// <summary>The stopped trial's result: its epochs so far, its measures at the rung, the rung and the reason.</summary>
    public TrialResult Stopped(int attempts)
    {
        var (rung, reason) = Stop ?? throw new InvalidOperationException("the attempt was not stopped");
        EpochRecord[] epochs;
        lock (_epochs) epochs = [.. _epochs.OrderBy(e => e.Epoch)];
        var at = epochs.LastOrDefault(e => e.Epoch == rung);
        return TrialOutcome.Ended(request.SweepId, request.TrialId, request.Params, TrialStatus.Stopped, reason) with
        {
            Accuracy = at?.Accuracy, WeightSparsity = at?.WeightSparsity, NodeSparsity = at?.NodeSparsity,
            Epochs = epochs, Seconds = epochs.Sum(e => e.Seconds), Device = slots.DeviceKind, Silo = siloName,
            Attempts = attempts, Rung = rung,
        };
    }
}
