using Orleans.Runtime;

namespace OrleansGateway.Hosting;

/// <summary>
/// Stops the Orleans silo (premark, drain, leave the cluster) while the HTTP server still serves. The host stops its
/// services in reverse order of registration and ASP.NET Core's server comes after Orleans: without this, Kestrel
/// closes first, and for the whole drain the silo refuses connections, so <c>/readyz</c> never answers 503 and a
/// session's GET fails on a silo that still runs its turns. The host calls <see cref="StoppingAsync"/> before any
/// service's StopAsync; Orleans' own hosted service then finds the stop in progress and waits for it.
/// </summary>
internal sealed class SiloStopsBeforeHttp(Silo silo) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await silo.StopAsync(cancellationToken);
        }
        catch (InvalidOperationException)
        {
            // The silo never got to Running (its start failed): there is nothing to drain, and Orleans' own service
            // reports the state when it stops.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
