namespace OrleansGateway.Dashboard.Hosting;

/// <summary>
/// Calls the cluster every <see cref="Interval"/>. The Orleans client connects to a gateway only when a call needs one:
/// after every silo went away, nothing would reconnect until an operator's action failed once for it. The probe finds
/// the silos that came back (the client re-reads the gateway list every 2 s) and tells <see cref="ClusterConnection"/>.
/// </summary>
public sealed class ClusterProbe(IClusterClient client, ClusterConnection connection) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                try
                {
                    // The smallest call every silo answers: the management grain's list of active silos.
                    await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(Interval, stoppingToken);
                    connection.Reached();
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    connection.Unreachable(exception.GetBaseException().Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
