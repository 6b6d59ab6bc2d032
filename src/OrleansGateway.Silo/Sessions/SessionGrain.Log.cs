namespace OrleansGateway.Sessions;

// Source-generated logging of the session grain.
public sealed partial class SessionGrain
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: storage unavailable at a checkpoint; trying again in {Delay}")]
    private partial void LogStorageRetry(Exception exception, string sessionId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} deleted by the user")]
    private partial void LogDeleted(string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} accepted message {MessageId} as turn {TurnId}")]
    private partial void LogAccepted(string sessionId, string turnId, string messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} refused message {MessageId}: it is {Phase}")]
    private partial void LogRefused(string sessionId, string messageId, SessionPhase phase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: the abandoned event could not be written")]
    private partial void LogHistoryFailed(Exception exception, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} took over its stale interruption for a new message: {Abandoned}")]
    private partial void LogAbandoned(string sessionId, string abandoned);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} turn {TurnId} started (execution {Execution}, from step {Step})")]
    private partial void LogTurnStarted(string sessionId, string turnId, int execution, int step);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} turn {TurnId} finished {Status}")]
    private partial void LogTurnFinished(string sessionId, string turnId, TurnStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} resumed turn {TurnId} ({Reason}) from step {Step}, attempt {Attempt}")]
    private partial void LogResumed(string sessionId, string turnId, string? reason, int step, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} turn {TurnId} interrupted after {StepsDone} checkpointed steps")]
    private partial void LogInterrupted(string sessionId, string turnId, int stepsDone);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} turn {TurnId} left for another silo: stop {StopId} drains this one")]
    private partial void LogDeferred(string sessionId, string turnId, Guid stopId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} turn {TurnId} step {Step} failed")]
    private partial void LogStepFailed(Exception exception, string sessionId, string turnId, int step);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} turn {TurnId} stopped on a storage error; its checkpoint stays")]
    private partial void LogTurnLoopFailed(Exception exception, string sessionId, string turnId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} turn {TurnId}: the grain state was written by an activation that had lost the session; handed back to the sweepers")]
    private partial void LogStateMoved(string sessionId, string turnId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was taken over (this activation held epoch {Epoch}); it stops writing")]
    private partial void LogSuperseded(string sessionId, long? epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} did not store message {MessageId}: its write-ahead was fenced and the session is now {Phase} (null: gone); the client retries")]
    private partial void LogAdmissionFenced(string sessionId, string messageId, SessionPhase? phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} moved {Count} finished turns from its grain state to the transcript")]
    private partial void LogMovedToTranscript(string sessionId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: its stream misses a {Kind} event, which could not be stored")]
    private partial void LogStreamEventFailed(Exception exception, string sessionId, string kind);
}
