using Orleans.CodeGeneration;

namespace OrleansGateway.Sessions;

/// <summary>One conversation. Its key is the session id (1–128 characters of <c>[A-Za-z0-9._:-]</c>).</summary>
// Version 0 since release 0.1. A changed method is a new method under a new alias and raises the version; the old one
// stays while a release that calls it may run (BackwardCompatible: a silo of version n serves callers of n and below).
// New methods (SuspendByUser, LiftUserSuspension, Delete) keep version 0: raising it would move every session that a newer
// silo calls off the older silos mid-turn during a rolling upgrade; a 0.1 activation answers them with an error.
[Alias("OrleansGateway.Sessions.ISessionGrain"), Version(0)]
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Appends a message to the durable inbox and returns once it is stored; the turn it starts runs in the
    /// background. A message id seen before returns the turn it already started and starts nothing.
    /// </summary>
    [Alias("PostMessage")]
    Task<MessageAccepted> PostMessageAsync(SessionMessage message);

    /// <summary>The session with its turns, or null when the session was never written.</summary>
    [Alias("Get")]
    Task<SessionView?> GetAsync();

    /// <summary>
    /// The session with its newest <paramref name="turns"/> turns (oldest of them first), its turn count and the cursor of
    /// the turns before them; null when the session was never written. What a session costs to read does not grow with
    /// its history. Callers fall back to <see cref="GetAsync"/> when the activation is of release 0.1.
    /// </summary>
    [Alias("GetNewest")]
    Task<SessionView?> GetNewestAsync(int turns);

    /// <summary>
    /// A page of the history, newest first: at most <paramref name="limit"/> turns older than <paramref name="beforeTurnId"/>
    /// (the newest turns when null). Nothing from the ledger: merge its starts with <see cref="TurnView.WithStartsOf"/>.
    /// Null when the session was never written.
    /// </summary>
    [Alias("GetTurnPage")]
    Task<TurnPage?> GetTurnPageAsync(string? beforeTurnId, int limit);

    /// <summary>
    /// Continues a resume_pending session from its last checkpoint, if the claim (a compare-and-set on the
    /// epoch in <paramref name="ticket"/>) wins. Called by the resume sweeper.
    /// </summary>
    [Alias("Resume")]
    Task<ResumeOutcome> ResumeAsync(ResumeTicket ticket);

    /// <summary>Stops the session's running turn and keeps it from running until it is resumed by a person.</summary>
    [Alias("Suspend")]
    Task<SessionCommandResult> SuspendAsync();

    /// <summary>Lifts a suspension; the session continues its unfinished work.</summary>
    [Alias("LiftSuspension")]
    Task<SessionCommandResult> LiftSuspensionAsync();

    /// <summary>
    /// The user's suspension: refused (Conflict) for a quarantined session, and recorded as the user's, so that only
    /// <see cref="LiftUserSuspensionAsync"/> of the user or an operator lifts it.
    /// </summary>
    [Alias("SuspendByUser")]
    Task<SessionCommandResult> SuspendByUserAsync();

    /// <summary>Lifts the user's own suspension; Conflict for any other (an operator's) or none.</summary>
    [Alias("LiftUserSuspension")]
    Task<SessionCommandResult> LiftUserSuspensionAsync();

    /// <summary>
    /// An operator's "resume now": lifts a suspension, or resumes a resume_pending session at once (stale or not,
    /// ahead of the sweepers). Conflict for a quarantined session (release it) or one that runs or is idle.
    /// </summary>
    [Alias("ResumeNow")]
    Task<SessionCommandResult> ResumeNowAsync();

    /// <summary>Takes a quarantined session out of quarantine and resumes it with a fresh count of attempts.</summary>
    [Alias("Release")]
    Task<SessionCommandResult> ReleaseAsync();

    /// <summary>
    /// The user's delete: the running turn stops, then the grain state, the ledger row and the history go; one
    /// <c>deleted</c> event with the session id stays as the audit record. NotFound for a session never written.
    /// </summary>
    [Alias("Delete")]
    Task<SessionCommandResult> DeleteAsync();
}

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.SessionMessage")]
public sealed record SessionMessage([property: Id(0)] string MessageId, [property: Id(1)] string Text);

/// <summary>
/// The answer to a stored message. <see cref="Phase"/> is the session's phase once the message is stored (null from a
/// silo of release 0.1); <see cref="Note"/> says why it waits or what it ended. A refused message is an exception, not
/// an answer: a silo of release 0.1 taking the post must not acknowledge a message that was not stored.
/// </summary>
[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.MessageAccepted")]
public sealed record MessageAccepted(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string MessageId,
    [property: Id(2)] string TurnId,
    [property: Id(3)] bool Duplicate,
    [property: Id(4)] SessionPhase? Phase = null,
    [property: Id(5)] string? Note = null);

/// <summary>What the sweeper saw in the ledger: the epoch to claim at, and the interruption it resumes.</summary>
[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.ResumeTicket")]
public sealed record ResumeTicket(
    [property: Id(0)] long Epoch,
    [property: Id(1)] string? Reason,
    [property: Id(2)] DateTimeOffset MarkedAt);

[GenerateSerializer]
public enum ResumeOutcome
{
    /// <summary>Claimed; the interrupted turn continues from its checkpoint.</summary>
    Resumed,
    /// <summary>Claimed, but nothing was left to run: the session is idle.</summary>
    NothingToResume,
    /// <summary>Another claim won, or the session changed since the ticket was written.</summary>
    Lost,
    /// <summary>Not now: the session's activation is on a draining silo, or already runs a turn.</summary>
    Refused,
}

[GenerateSerializer]
public enum SessionCommandStatus
{
    Done,
    NotFound,
    Conflict,
}

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.SessionCommandResult")]
public sealed record SessionCommandResult(
    [property: Id(0)] SessionCommandStatus Status,
    [property: Id(1)] SessionPhase? Phase,
    [property: Id(2)] string Message);

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.SessionView")]
public sealed record SessionView(
    [property: Id(0)] string SessionId,
    [property: Id(1)] SessionPhase Phase,
    [property: Id(2)] string? ResumeReason,
    [property: Id(3)] int ResumeAttempts,
    [property: Id(4)] string? OwnerSilo,
    [property: Id(5)] IReadOnlyList<TurnView> Turns,
    [property: Id(6)] DateTimeOffset? ResumeMarkedAt = null,
    [property: Id(7)] bool Stale = false,
    [property: Id(8)] string? LastError = null,
    [property: Id(9)] int? TurnCount = null,
    [property: Id(10)] string? TurnsBefore = null)
{
    /// <summary>All the session's turns: <see cref="TurnCount"/> is null from an activation of release 0.1, which sends every turn.</summary>
    public int AllTurns => TurnCount ?? Turns.Count;
}

/// <summary>
/// Turns of one session, newest first, and <see cref="Before"/>: the cursor of the next older page (the oldest turn id of
/// this one), null when this page reaches the session's first turn.
/// </summary>
[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.TurnPage")]
public sealed record TurnPage(
    [property: Id(0)] IReadOnlyList<TurnView> Turns,
    [property: Id(1)] int TurnCount,
    [property: Id(2)] string? Before);

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.TurnView")]
public sealed record TurnView(
    [property: Id(0)] string TurnId,
    [property: Id(1)] string MessageId,
    [property: Id(2)] TurnStatus Status,
    [property: Id(3)] int StepsDone,
    [property: Id(4)] int? StepsTotal,
    [property: Id(5)] int Executions,
    [property: Id(6)] string? Reply,
    [property: Id(7)] string? Error = null,
    [property: Id(8)] TokenUsage? Usage = null)
{
    /// <summary>
    /// With the starts the ledger counted for its active turn: a resume claim that died before its first checkpoint
    /// started the turn once more than the state knows.
    /// </summary>
    public TurnView WithStartsOf(string? activeTurnId, int activeTurnStarts) =>
        TurnId == activeTurnId && activeTurnStarts > Executions ? this with { Executions = activeTurnStarts } : this;
}

/// <summary>Tokens a turn's model calls used: prompt (input) and completion (output), summed over its steps.</summary>
[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.TokenUsage")]
public sealed record TokenUsage([property: Id(0)] long Input, [property: Id(1)] long Output)
{
    public static TokenUsage operator +(TokenUsage left, TokenUsage right) => new(left.Input + right.Input, left.Output + right.Output);
}

[GenerateSerializer]
public enum TurnStatus
{
    Queued,
    Running,
    Interrupted,
    Completed,
    Failed,
}
