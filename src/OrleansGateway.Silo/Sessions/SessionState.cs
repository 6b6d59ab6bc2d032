using OrleansGateway.Storage;

namespace OrleansGateway.Sessions;

/// <summary>
/// What a resume needs, as Orleans stores it: the durable inbox of turns not yet finished, with their checkpoints, and
/// the turn counter. Finished turns live in the transcript table (<see cref="SessionTranscript"/>), so that the state
/// stays small however long the conversation. A state written by release 0.1 holds every turn: its finished ones move to
/// the transcript when this build activates the session. Written only by the session grain.
/// </summary>
[GenerateSerializer]
public sealed class SessionState
{
    [Id(0)] public List<TurnRecord> Turns { get; set; } = [];

    /// <summary>Numbers turn ids; never reused, so a turn id names one turn forever.</summary>
    [Id(1)] public int LastTurnNumber { get; set; }

    public TurnRecord? FindByMessageId(string messageId) => Turns.Find(turn => turn.MessageId == messageId);

    /// <summary>The oldest turn that still has work: turns run one at a time, in arrival order.</summary>
    public TurnRecord? NextUnfinished() => Turns.Find(turn => !turn.IsFinished);

    /// <summary>
    /// Whether some turn left the state for the transcript: turn numbers run from 1 without gaps, so a state holding fewer
    /// turns than it numbered has finished ones elsewhere. A method: the ADO.NET storage's JSON writes every property.
    /// </summary>
    public bool HasTranscript() => LastTurnNumber > Turns.Count;

    /// <summary>The finished turns still here: a state of release 0.1, or a stale turn just abandoned.</summary>
    public List<TurnRecord> Finished() => Turns.FindAll(turn => turn.IsFinished);
}

[GenerateSerializer]
public sealed class TurnRecord
{
    [Id(0)] public required string TurnId { get; set; }
    [Id(1)] public required string MessageId { get; set; }
    [Id(2)] public required string Text { get; set; }
    [Id(3)] public TurnStatus Status { get; set; }

    /// <summary>Checkpoint: steps whose effect is recorded. A resumed turn continues with this step index.</summary>
    [Id(4)] public int StepsDone { get; set; }
    [Id(5)] public int? StepsTotal { get; set; }

    /// <summary>How many times the turn was started: 1, plus one per resume after an interruption.</summary>
    [Id(6)] public int Executions { get; set; }
    [Id(7)] public string? Reply { get; set; }
    [Id(8)] public string? Error { get; set; }
    [Id(9)] public DateTimeOffset AcceptedAt { get; set; }
    [Id(10)] public DateTimeOffset? FinishedAt { get; set; }

    public bool IsFinished => Status is TurnStatus.Completed or TurnStatus.Failed;

    public TurnView ToView() => new(TurnId, MessageId, Status, StepsDone, StepsTotal, Executions, Reply, Error);

    // A method, not a property: the ADO.NET storage's JSON writes every property, and 0.1's bytes must not change.
    public int Number() => TurnIds.Parse(TurnId);

    public FinishedTurn ToFinished() => new(Number(), MessageId, Text, Status, StepsDone, StepsTotal, Executions, Reply, Error,
        AcceptedAt, FinishedAt);
}
