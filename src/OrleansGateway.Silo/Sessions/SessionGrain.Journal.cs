using OrleansGateway.Storage;

namespace OrleansGateway.Sessions;

// A turn's journal (what its steps recorded) and the events that tell a session's stream what happens.
public sealed partial class SessionGrain
{
    /// <summary>
    /// The journal of a turn that starts again: its agent goes on from it. A turn's first execution has nothing journaled
    /// yet, so the path of every new message costs no read.
    /// </summary>
    private async Task<List<JournalEntry>> ReadJournalAsync(TurnRecord turn)
    {
        if (turn.Executions <= 1 && turn.StepsDone == 0)
        {
            return [];
        }

        var entries = await RideOutAsync(() => journal.ReadAsync(SessionId, turn.Number(), _deactivating.Token));

        // A step's record commits before the state's count of it: after a crash between the two the journal is ahead.
        if (entries.Count > 0 && entries[^1].Step >= turn.StepsDone)
        {
            turn.StepsDone = entries[^1].Step + 1;
        }

        return [.. entries];
    }

    /// <summary>
    /// Stores an event of the session's stream; called under the write gate, so that a session's events commit in the
    /// order of their ids. The change it tells of is durable already: a failure costs the stream one event, nothing more.
    /// </summary>
    private async Task TellAsync(TurnEventDraft draft)
    {
        try
        {
            await turnEvents.AppendAsync(SessionId, draft, _deactivating.Token);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogStreamEventFailed(exception, SessionId, draft.Kind);
        }
    }
}
