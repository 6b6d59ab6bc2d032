using Microsoft.Extensions.Options;
using OrleansGateway.Hosting;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;

namespace OrleansGateway.Operations;

/// <summary>
/// Keeps <c>gateway_events</c> to <see cref="EventRetentionOptions.Retention"/>: every silo tries every
/// <see cref="EventRetentionOptions.PruneInterval"/>, and whoever gets the advisory lock prunes. A loop of its own,
/// so that a large backlog never delays a resume sweep. The stored stream events (<c>gateway_turn_events</c>) go in the
/// same period after <see cref="SessionStreamOptions.Retention"/>; silos that prune them at once delete each row once.
/// </summary>
internal sealed partial class EventPruner(EventHistory events, TurnEvents streamEvents, TimeProvider time, IOptions<EventRetentionOptions> options,
    IOptions<SessionStreamOptions> streamOptions, ILogger<EventPruner> logger) : SiloBackgroundLoop
{
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var retention = options.Value;
        using var timer = new PeriodicTimer(retention.PruneInterval, time);
        try
        {
            do
            {
                await PruneOnceAsync(retention, cancellationToken);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task PruneOnceAsync(EventRetentionOptions retention, CancellationToken cancellationToken)
    {
        try
        {
            var result = await events.PruneAsync(time.GetUtcNow() - retention.Retention, retention.PruneBatchSize, cancellationToken);
            if (result.Deleted > 0)
            {
                LogPruned(result.Deleted, result.Batches, retention.Retention);
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The history grows a little longer; the next period tries again.
            LogPruneFailed(exception);
        }

        var streamRetention = streamOptions.Value.Retention;
        try
        {
            var deleted = await streamEvents.PruneAsync(time.GetUtcNow() - streamRetention, retention.PruneBatchSize, cancellationToken);
            if (deleted > 0)
            {
                LogStreamPruned(deleted, streamRetention);
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogStreamPruneFailed(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Deleted} events older than {Retention} in {Batches} batches")]
    private partial void LogPruned(int deleted, int batches, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning the event history failed; the next period tries again")]
    private partial void LogPruneFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Deleted} stream events older than {Retention}")]
    private partial void LogStreamPruned(int deleted, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning the stream events failed; the next period tries again")]
    private partial void LogStreamPruneFailed(Exception exception);
}
