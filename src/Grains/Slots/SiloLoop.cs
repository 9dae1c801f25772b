using Microsoft.Extensions.Logging;

namespace Sweep.Grains.Slots;

/// <summary>Work a silo repeats every <see cref="Period"/> from the moment it is active until it stops.</summary>
public abstract class SiloLoop(ILogger logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private CancellationTokenSource? _stop;
    private Task? _loop;

    protected abstract TimeSpan Period { get; }

    /// <summary>One round; a failure is logged and the next round tries again.</summary>
    protected abstract Task TickAsync(CancellationToken stop);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(GetType().Name, ServiceLifecycleStage.Active, _ =>
        {
            _stop = new CancellationTokenSource();
            _loop = Task.Run(() => LoopAsync(_stop.Token));
            return Task.CompletedTask;
        }, async _ =>
        {
            _stop?.Cancel();
            if (_loop is not null) await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        });

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await TickAsync(stop);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                logger.LogWarning("{Loop}: {Reason}", GetType().Name, e.Message);
            }
            try { await Task.Delay(Period, stop); } catch (OperationCanceledException) { }
        }
    }
}
