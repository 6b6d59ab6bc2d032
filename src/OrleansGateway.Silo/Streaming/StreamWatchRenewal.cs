using Microsoft.Extensions.Options;
using OrleansGateway.Hosting;
using OrleansGateway.Storage;

namespace OrleansGateway.Streaming;

/// <summary>
/// Keeps this silo's watches (<see cref="StreamWatchers"/>) of the sessions it streams: renews them every quarter of
/// <see cref="SessionStreamOptions.WatchLease"/>, watches again (and re-reads) a session whose watch lapsed, prunes
/// the rows of leases that ended, and removes this silo's rows when it stops. A stream that closes leaves its watch to
/// lapse: a session streamed again soon is still watched, and nothing races a stream that opens as another closes.
/// </summary>
internal sealed partial class StreamWatchRenewal(StreamWatchers watchers, SessionStreamRegistry registry, ILocalSiloDetails silo,
    IOptions<SessionStreamOptions> options, ILogger<StreamWatchRenewal> logger) : SiloBackgroundLoop
{
    private static readonly TimeSpan ForgetLimit = TimeSpan.FromSeconds(2);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var lease = options.Value.WatchLease;
        var self = silo.SiloAddress.ToParsableString();
        try
        {
            using var timer = new PeriodicTimer(lease / 4);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await RenewAsync(self, lease, cancellationToken);
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
                {
                    LogRenewalFailed(exception, lease / 4);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        // The streams end with the silo; a row left behind (the database away at this moment) lapses with its lease.
        using var forget = new CancellationTokenSource(ForgetLimit);
        try
        {
            await watchers.ForgetAsync(self, forget.Token);
        }
        catch (Exception exception)
        {
            LogForgetFailed(exception);
        }
    }

    private async Task RenewAsync(string self, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (registry.Sessions() is { Count: > 0 } streamed)
        {
            foreach (var sessionId in await watchers.RenewAsync(self, streamed, lease, cancellationToken))
            {
                // Its events may have gone without a notification meanwhile: watch again, then have its streams read.
                await watchers.WatchAsync(sessionId, self, lease, cancellationToken);
                registry.Wake(sessionId);
                LogWatchedAgain(sessionId);
            }
        }

        await watchers.PruneAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the watches of the streamed sessions failed; trying again in {Interval}")]
    private partial void LogRenewalFailed(Exception exception, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Information, Message = "The watch of session {SessionId} had lapsed; watching it again and re-reading its events")]
    private partial void LogWatchedAgain(string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Removing this silo's stream watches at its stop failed; they lapse with their lease")]
    private partial void LogForgetFailed(Exception exception);
}
