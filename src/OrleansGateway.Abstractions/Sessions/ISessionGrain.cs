namespace OrleansGateway.Sessions;

/// <summary>One conversation. Its key is the session id (1–128 characters of <c>[A-Za-z0-9._:-]</c>).</summary>
[Alias("OrleansGateway.Sessions.ISessionGrain")]
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
}

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.SessionMessage")]
public sealed record SessionMessage([property: Id(0)] string MessageId, [property: Id(1)] string Text);

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.MessageAccepted")]
public sealed record MessageAccepted(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string MessageId,
    [property: Id(2)] string TurnId,
    [property: Id(3)] bool Duplicate);

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.SessionView")]
public sealed record SessionView(
    [property: Id(0)] string SessionId,
    [property: Id(1)] SessionPhase Phase,
    [property: Id(2)] string? ResumeReason,
    [property: Id(3)] int ResumeAttempts,
    [property: Id(4)] string? OwnerSilo,
    [property: Id(5)] IReadOnlyList<TurnView> Turns);

[GenerateSerializer, Immutable, Alias("OrleansGateway.Sessions.TurnView")]
public sealed record TurnView(
    [property: Id(0)] string TurnId,
    [property: Id(1)] string MessageId,
    [property: Id(2)] TurnStatus Status,
    [property: Id(3)] int StepsDone,
    [property: Id(4)] int? StepsTotal,
    [property: Id(5)] int Executions,
    [property: Id(6)] string? Reply);

[GenerateSerializer]
public enum TurnStatus
{
    Queued,
    Running,
    Interrupted,
    Completed,
    Failed,
}
