using System.Text.Json.Serialization;

namespace OrleansGateway.Sessions;

// The documents of a silo's session API (/api/sessions), written by the silo and read by ogw's demos.

public sealed record PostMessageRequest(string? Text, string? MessageId);

/// <summary>A stored message: <c>phase</c> is the session's (null when a silo of release 0.1 stored it), <c>note</c> why it waits or what it ended.</summary>
public sealed record PostMessageResponse(string SessionId, string MessageId, string TurnId, string? Phase, string? Note);

public sealed record SessionResponse(
    string SessionId,
    string Phase,
    string? ResumeReason,
    int ResumeAttempts,
    string? OwnerSilo,
    IReadOnlyList<TurnResponse> Turns,
    DateTimeOffset? ResumeMarkedAt,
    bool Stale,
    string? LastError)
{
    public static SessionResponse From(SessionView session) => new(
        session.SessionId,
        session.Phase.ToName(),
        session.ResumeReason,
        session.ResumeAttempts,
        session.OwnerSilo,
        [.. session.Turns.Select(TurnResponse.From)],
        session.ResumeMarkedAt,
        session.Stale,
        session.LastError);
}

public sealed record TurnResponse(
    string TurnId,
    string MessageId,
    string Status,
    int StepsDone,
    int? StepsTotal,
    int Executions,
    string? Reply,
    string? Error = null)
{
    [JsonIgnore]
    public bool IsCompleted => Status == "completed";

    public static TurnResponse From(TurnView turn) => new(
        turn.TurnId,
        turn.MessageId,
        turn.Status.ToString().ToLowerInvariant(),
        turn.StepsDone,
        turn.StepsTotal,
        turn.Executions,
        turn.Reply,
        turn.Error);
}
