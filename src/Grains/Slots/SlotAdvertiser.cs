using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Sweep.Grains.Slots;

/// <summary>Tells the cluster's slot registry how many training slots this silo has, once active and then periodically.</summary>
public sealed class SlotAdvertiser(IGrainFactory grains, ILocalSiloDetails silo, TrialSlotPool pool, ILogger<SlotAdvertiser> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);
    private CancellationTokenSource? _stop;

    /// <summary>True once the registry has this silo's slots (part of readiness).</summary>
    public bool HasAdvertised { get; private set; }
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SlotAdvertiser), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private Task OnStartAsync(CancellationToken _)
    {
        _stop = new CancellationTokenSource();
        _loop = Task.Run(() => LoopAsync(_stop.Token));
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken _)
    {
        _stop?.Cancel();
        if (_loop is not null) await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        var registry = grains.GetGrain<ISlotRegistryGrain>(0);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await registry.AdvertiseAsync(silo.SiloAddress.ToParsableString(), new SiloSlots(pool.Capacity, pool.Busy));
                HasAdvertised = true;
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                logger.LogWarning("Could not advertise training slots: {Reason}", e.Message);
            }
            try { await Task.Delay(Period, stop); } catch (OperationCanceledException) { }
        }
    }
}
