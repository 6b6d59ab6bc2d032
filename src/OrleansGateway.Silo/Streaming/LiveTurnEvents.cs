using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using OrleansGateway.Agents;
using OrleansGateway.Storage;

namespace OrleansGateway.Streaming;

/// <summary>
/// Sends the live events of the turns this silo runs (steps starting, text as a model streams it) to every silo's
/// stream listeners, through PostgreSQL's notifications, for the sessions that some silo streams. Best effort and never
/// in a step's way: a step hands its events to a bounded queue and goes on; text that arrives within one flush is sent
/// as one event, and a flush is one statement; a full queue drops the oldest.
/// </summary>
public sealed partial class LiveTurnEvents : IAsyncDisposable
{
    // Characters of text per event: escaped as \uXXXX at worst, 6 bytes each, well within a notification's bound.
    private const int MaxTextPerEvent = 1000;
    // At most a few MB of payloads in one statement.
    private const int MaxPerStatement = 256;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private readonly TurnEvents _events;
    private readonly ILogger<LiveTurnEvents> _logger;
    private readonly Channel<LiveEvent> _queue = Channel.CreateBounded<LiveEvent>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Task _pump;

    public LiveTurnEvents(TurnEvents events, ILogger<LiveTurnEvents> logger)
    {
        _events = events;
        _logger = logger;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The output of one step, for its agent to stream into.</summary>
    public IStepOutput ForStep(string sessionId, string turnId, int step) => new Step(this, sessionId, turnId, step);

    public void StepStarted(string sessionId, string turnId, int step) =>
        _queue.Writer.TryWrite(new LiveEvent(sessionId, turnId, step, TurnEventKinds.StepStarted, Text: null));

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task PumpAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            await Task.Delay(FlushInterval);
            var pending = new List<LiveEvent>();
            while (reader.TryRead(out var next))
            {
                // Deltas of one step in a row become one text: a token per notification would cost a round trip each.
                if (next.Kind == TurnEventKinds.Delta && pending.Count > 0 && pending[^1] is { Kind: TurnEventKinds.Delta } last && last.SameStep(next))
                {
                    pending[^1] = last with { Text = last.Text + next.Text };
                }
                else
                {
                    pending.Add(next);
                }
            }

            // A statement per flush (per chunk of a large one), whatever the number of turns; it sends what some silo streams.
            foreach (var chunk in pending.SelectMany(Cut).Select(live => new LiveNotice(live.SessionId, live.ToJson())).Chunk(MaxPerStatement))
            {
                try
                {
                    await _events.PublishLiveAsync(chunk);
                }
                catch (Exception exception)
                {
                    LogPublishFailed(exception, chunk.Length);
                }
            }
        }
    }

    private static IEnumerable<LiveEvent> Cut(LiveEvent live)
    {
        if (live.Text is not { Length: > MaxTextPerEvent } text)
        {
            yield return live;
            yield break;
        }

        var builder = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (builder.Length + rune.Utf16SequenceLength > MaxTextPerEvent)
            {
                yield return live with { Text = builder.ToString() };
                builder.Clear();
            }

            builder.Append(rune.ToString());
        }

        yield return live with { Text = builder.ToString() };
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Count} live events were not sent")]
    private partial void LogPublishFailed(Exception exception, int count);

    private sealed record LiveEvent(string SessionId, string TurnId, int Step, string Kind, string? Text)
    {
        public bool SameStep(LiveEvent other) => SessionId == other.SessionId && TurnId == other.TurnId && Step == other.Step;

        public string ToJson() => new JsonObject
        {
            ["sessionId"] = SessionId,
            ["turnId"] = TurnId,
            ["kind"] = Kind,
            ["step"] = Step,
            ["text"] = Text,
        }.ToJsonString();
    }

    private sealed class Step(LiveTurnEvents owner, string sessionId, string turnId, int step) : IStepOutput
    {
        public void TextDelta(string text)
        {
            if (text.Length > 0)
            {
                owner._queue.Writer.TryWrite(new LiveEvent(sessionId, turnId, step, TurnEventKinds.Delta, text));
            }
        }
    }
}
