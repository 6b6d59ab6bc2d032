namespace OrleansGateway.Hosting;

/// <summary>
/// A loop of its own that runs while the silo is Active: started at that stage, cancelled and awaited when the silo
/// stops, so that its work never delays the silo's start or outlives its stop.
/// </summary>
internal abstract class SiloBackgroundLoop : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(GetType().Name, ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>The loop; <paramref name="cancellationToken"/> is cancelled when the silo stops.</summary>
    protected abstract Task RunAsync(CancellationToken cancellationToken);

    /// <summary>Called once the loop has ended on the silo's stop.</summary>
    protected virtual void Stopped()
    {
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token));
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Stopped();
    }
}
