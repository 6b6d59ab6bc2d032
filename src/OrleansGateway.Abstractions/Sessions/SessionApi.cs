using System.Text.Json.Serialization;

namespace OrleansGateway.Sessions;

// The documents of a silo's session API (/api/sessions), written by the silo and read by ogw's demos.

/// <summary>How many turns a read of a session gives: <c>?turns=</c> of a session, <c>?limit=</c> of a page of turns.</summary>
public static class TurnPageLimits
{
    public const int DefaultTurns = 20;
    public const int MaxTurns = 500;
}

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
    string? LastError,
    int TurnCount = 0,
    string? TurnsBefore = null)
{
    // TurnCount and TurnsBefore: the session's turns in all, and the cursor of those before Turns (null when Turns holds
    // them all). A silo of release 0.1 writes neither, and every turn.
    public static SessionResponse From(SessionView session) => new(
        session.SessionId,
        session.Phase.ToName(),
        session.ResumeReason,
        session.ResumeAttempts,
        session.OwnerSilo,
        [.. session.Turns.Select(TurnResponse.From)],
        session.ResumeMarkedAt,
        session.Stale,
        session.LastError,
        session.AllTurns,
        session.TurnsBefore);
}

/// <summary>
/// <c>GET /api/sessions/{id}/turns</c>: turns newest first, the session's turns in all, and <c>before</c>, the cursor of
/// the next older page (null once the page reaches the first turn).
/// </summary>
public sealed record TurnPageResponse(string SessionId, IReadOnlyList<TurnResponse> Turns, int TurnCount, string? Before)
{
    public static TurnPageResponse From(string sessionId, TurnPage page) =>
        new(sessionId, [.. page.Turns.Select(TurnResponse.From)], page.TurnCount, page.Before);
}

public sealed record TurnResponse(
    string TurnId,
    string MessageId,
    string Status,
    int StepsDone,
    int? StepsTotal,
    int Executions,
    string? Reply,
    string? Error = null,
    TokenUsage? Usage = null)
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
        turn.Error,
        turn.Usage);
}
