using System.Threading.Channels;
using OrleansGateway.Storage;

namespace OrleansGateway.Streaming;

/// <summary>
/// One open stream of a session on this silo: the frames waiting for its client, and the id of the last stored event it
/// was given. Stored events are read by one loop per subscriber (<see cref="CatchUpAsync"/>), woken by notifications that
/// coalesce (a burst of commits is one read), so ids go out once and in order. Live events are queued as they come.
/// </summary>
public sealed partial class StreamSubscriber : IDisposable
{
    private static readonly TimeSpan ReadRetryDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<string> _frames;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly CancellationTokenSource _ended = new();
    private string? _endReason;

    internal StreamSubscriber(string sessionId, int capacity)
    {
        SessionId = sessionId;
        _frames = Channel.CreateBounded<string>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    public string SessionId { get; }

    /// <summary>The id of the newest stored event queued for the client.</summary>
    public long LastQueuedId { get; private set; }

    public ChannelReader<string> Frames => _frames.Reader;

    /// <summary>Cancelled when the stream must close on this side: the client fell too far behind, or the silo stops.</summary>
    public CancellationToken Ended => _ended.Token;

    public string? EndReason => _endReason;

    /// <summary>Events of the session committed (or may have, after the listener lost its connection): read what is new.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Queues a live frame; a client whose queue is full is let go rather than buffered for without end.</summary>
    public void Live(string frame)
    {
        if (!_frames.Writer.TryWrite(frame))
        {
            End($"the client fell more than {_frames.Reader.Count} frames behind");
        }
    }

    public void End(string reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, reason, null) is null)
        {
            _ended.Cancel();
        }
    }

    /// <summary>Queues every stored event after <paramref name="afterId"/>, then whatever each wake finds, until cancelled.</summary>
    public async Task CatchUpAsync(long afterId, TurnEvents events, int batchSize, ILogger logger, CancellationToken cancellationToken)
    {
        LastQueuedId = afterId;
        Wake();
        await foreach (var _ in _wake.Reader.ReadAllAsync(cancellationToken))
        {
            try
            {
                await QueueNewEventsAsync(events, batchSize, cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The database is away for a moment: the events stay stored, a later read finds them.
                LogReadFailed(logger, exception, SessionId, LastQueuedId);
                await Task.Delay(ReadRetryDelay, cancellationToken);
                Wake();
            }
        }
    }

    public void Dispose() => _ended.Dispose();

    private async Task QueueNewEventsAsync(TurnEvents events, int batchSize, CancellationToken cancellationToken)
    {
        IReadOnlyList<TurnEvent> page;
        do
        {
            page = await events.ReadAfterAsync(SessionId, LastQueuedId, batchSize, cancellationToken);
            foreach (var stored in page)
            {
                // Waits while the client is behind: stored events stay in the database, nothing piles up here.
                await _frames.Writer.WriteAsync(StreamFrames.Stored(stored), cancellationToken);
                LastQueuedId = stored.Id;
            }
        }
        while (page.Count == batchSize);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the stream events of session {SessionId} after {AfterId} failed; retrying")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string sessionId, long afterId);
}
