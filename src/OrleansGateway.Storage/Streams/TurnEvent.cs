namespace OrleansGateway.Storage;

/// <summary>
/// The kinds of a session's stream (<c>GET /api/sessions/{id}/stream</c>). The durable ones are stored with the change
/// they tell of and replayed to a client that reconnects; the live ones are sent to whoever listens at the moment.
/// </summary>
public static class TurnEventKinds
{
    public const string Accepted = "accepted";
    public const string Started = "started";
    public const string Resumed = "resumed";
    public const string StepFinished = "step_finished";
    public const string ToolCall = "tool_call";
    public const string ToolResult = "tool_result";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";

    // Live only: never stored, may be lost with the silo that ran the step.
    public const string StepStarted = "step_started";
    public const string Delta = "delta";
}

/// <summary>An event to store: its kind, the turn it is about, and its JSON document.</summary>
public sealed record TurnEventDraft(string Kind, int? TurnNumber, string Data);

/// <summary>A stored event; <see cref="Id"/> orders a session's events and is the stream's event id.</summary>
public sealed record TurnEvent(long Id, string SessionId, int? TurnNumber, string Kind, string Data, DateTimeOffset At);
