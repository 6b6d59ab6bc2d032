using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>A turn that completed or failed, as the transcript keeps it: one row, written once.</summary>
public sealed record FinishedTurn(
    int Number,
    string MessageId,
    string Text,
    TurnStatus Status,
    int StepsDone,
    int? StepsTotal,
    int Executions,
    string? Reply,
    string? Error,
    DateTimeOffset AcceptedAt,
    DateTimeOffset? FinishedAt,
    TokenUsage? Usage = null)
{
    public string TurnId => TurnIds.Format(Number);

    public TurnView ToView() => new(TurnId, MessageId, Status, StepsDone, StepsTotal, Executions, Reply, Error, Usage);
}
