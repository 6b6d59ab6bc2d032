namespace OrleansGateway.Dashboard.Hosting;

/// <summary>
/// Whether the dashboard's Orleans client is connected to the cluster, for <c>/readyz</c> and the log. It is also
/// the client's connection retry filter: the dashboard keeps trying to reach the cluster for as long as it runs,
/// because silos come and go (a rolling restart, a cluster started after the dashboard) and the dashboard's own
/// reads of PostgreSQL work all the while.
/// </summary>
public sealed partial class ClusterConnection(ILogger<ClusterConnection> logger) : IClusterConnectionStatusObserver, IClientConnectionRetryFilter
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private volatile bool _connected;
    private int _failedAttempts;

    public bool IsConnected => _connected;

    /// <summary>The client finished starting: it reached a gateway and loaded the cluster's grain types.</summary>
    public void Started()
    {
        _connected = true;
        LogConnected();
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        _connected = currentNumberOfGateways > 0;
        LogGateways(currentNumberOfGateways, previousNumberOfGateways);
    }

    public void NotifyClusterConnectionLost()
    {
        _connected = false;
        LogLost();
    }

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        // Said once and then every minute: no silo may be up for a long time, and that is not news every second.
        var attempt = Interlocked.Increment(ref _failedAttempts);
        if (attempt == 1 || attempt % 60 == 0)
        {
            LogRetrying(attempt, exception.GetBaseException().Message);
        }

        try
        {
            await Task.Delay(RetryDelay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to the Orleans cluster")]
    private partial void LogConnected();

    [LoggerMessage(Level = LogLevel.Information, Message = "Orleans gateways: {Current} (were {Previous})")]
    private partial void LogGateways(int current, int previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to the Orleans cluster; reconnecting as silos come back")]
    private partial void LogLost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot reach the Orleans cluster yet (attempt {Attempt}): {Reason}; trying again every second")]
    private partial void LogRetrying(int attempt, string reason);
}
