namespace OrleansGateway.Dashboard.Hosting;

/// <summary>
/// Whether the dashboard reaches the Orleans cluster, for <c>/readyz</c>, the page and the log: what the last
/// <see cref="ClusterProbe"/> call found, and the client's own news of a lost connection. It is also the client's
/// connection retry filter: the dashboard keeps trying to reach the cluster for as long as it runs, because silos come
/// and go (a rolling restart, a cluster started after the dashboard) and its reads of PostgreSQL work all the while.
/// </summary>
public sealed partial class ClusterConnection(ILogger<ClusterConnection> logger) : IClusterConnectionStatusObserver, IClientConnectionRetryFilter
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private int _connected;
    private int _failedAttempts;

    public bool IsConnected => Volatile.Read(ref _connected) == 1;

    /// <summary>A call reached a silo.</summary>
    public void Reached()
    {
        if (Interlocked.Exchange(ref _connected, 1) == 0)
        {
            LogConnected();
        }
    }

    /// <summary>A call reached no silo.</summary>
    public void Unreachable(string reason)
    {
        if (Interlocked.Exchange(ref _connected, 0) == 1)
        {
            LogLost(reason);
        }
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        LogGateways(currentNumberOfGateways, previousNumberOfGateways);

    public void NotifyClusterConnectionLost() => Unreachable("the connection to the last gateway closed");

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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Orleans gateways: {Current} (were {Previous})")]
    private partial void LogGateways(int current, int previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the Orleans cluster ({Reason}); reconnecting as silos come back")]
    private partial void LogLost(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot reach the Orleans cluster yet (attempt {Attempt}): {Reason}; trying again every second")]
    private partial void LogRetrying(int attempt, string reason);
}
