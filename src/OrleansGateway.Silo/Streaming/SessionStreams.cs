using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OrleansGateway.Storage;

namespace OrleansGateway.Streaming;

/// <summary>
/// Serves one client's stream of a session: registers it here and watches the session in the database before reading
/// anything (so that no commit falls between the backlog and the notifications), queues the stored events after its
/// resume point and then what the listener brings, and writes them with a heartbeat until the client leaves or the
/// stream is ended on this side.
/// </summary>
public sealed partial class SessionStreams(SessionStreamRegistry registry, TurnEvents events, StreamWatchers watchers,
    ILocalSiloDetails silo, IOptions<SessionStreamOptions> options, ILogger<SessionStreams> logger)
{
    /// <summary>Streams the session to the response; <paramref name="afterId"/> null starts after its newest stored event.</summary>
    public async Task ServeAsync(HttpContext context, string sessionId, long? afterId)
    {
        var settings = options.Value;
        var aborted = context.RequestAborted;
        using var subscriber = new StreamSubscriber(sessionId, settings.QueueCapacity);
        registry.Add(subscriber);
        try
        {
            // Before the first read: from here on the session's events notify, and those that did not are readable.
            await watchers.WatchAsync(sessionId, silo.SiloAddress.ToParsableString(), settings.WatchLease, aborted);
            var start = afterId ?? await events.LatestIdAsync(sessionId, aborted);
            StartResponse(context.Response);
            LogOpened(sessionId, start);
            using var open = CancellationTokenSource.CreateLinkedTokenSource(aborted, subscriber.Ended);
            var catchUp = subscriber.CatchUpAsync(start, events, settings.ReadBatchSize, logger, open.Token);
            try
            {
                await context.Response.WriteAsync(afterId is null ? StreamFrames.Opened + StreamFrames.StartingPoint(start) : StreamFrames.Opened, open.Token);
                await context.Response.Body.FlushAsync(open.Token);
                await WriteFramesAsync(context.Response, subscriber, settings.Heartbeat, open.Token);
            }
            catch (Exception exception) when (open.IsCancellationRequested && exception is OperationCanceledException or IOException)
            {
                // The client left, or the stream was ended here: either way there is nobody to answer.
            }
            finally
            {
                await open.CancelAsync();
                await catchUp.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (subscriber.EndReason is { } reason)
            {
                LogEnded(sessionId, reason, subscriber.LastQueuedId);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
        finally
        {
            registry.Remove(subscriber);
            LogClosed(sessionId);
        }
    }

    private static void StartResponse(HttpResponse response)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Proxies such as nginx hold a response back to fill their buffer; a stream must pass at once.
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    private static async Task WriteFramesAsync(HttpResponse response, StreamSubscriber subscriber, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(heartbeat);
        var tick = timer.WaitForNextTickAsync(cancellationToken).AsTask();
        var ready = subscriber.Frames.WaitToReadAsync(cancellationToken).AsTask();
        while (true)
        {
            if (await Task.WhenAny(ready, tick) == tick)
            {
                await tick;
                await response.WriteAsync(StreamFrames.Heartbeat, cancellationToken);
                tick = timer.WaitForNextTickAsync(cancellationToken).AsTask();
            }
            else
            {
                if (!await ready)
                {
                    return;
                }

                while (subscriber.Frames.TryRead(out var frame))
                {
                    await response.WriteAsync(frame, cancellationToken);
                }

                ready = subscriber.Frames.WaitToReadAsync(cancellationToken).AsTask();
            }

            await response.Body.FlushAsync(cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream of session {SessionId} opened after event {AfterId}")]
    private partial void LogOpened(string sessionId, long afterId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream of session {SessionId} closed")]
    private partial void LogClosed(string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ended a stream of session {SessionId} after event {LastId}: {Reason}")]
    private partial void LogEnded(string sessionId, string reason, long lastId);
}
