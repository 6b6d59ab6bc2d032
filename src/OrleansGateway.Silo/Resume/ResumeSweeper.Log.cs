namespace OrleansGateway.Resume;

// What a sweep tells the log.
internal sealed partial class ResumeSweeper
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Crash detection: {Count} sessions of dead silos marked resume_pending (restart_interrupted)")]
    private partial void LogOrphansMarked(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was running on this silo without a turn running: marked resume_pending")]
    private partial void LogStranded(string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was idle with unfinished work in its state: marked resume_pending (idle_with_work)")]
    private partial void LogIdleWithWork(string sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit of idle sessions with unfinished work failed; the sweep goes on")]
    private partial void LogIdleAuditFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} quarantined: resumed {MaxAttempts} times without progress")]
    private partial void LogQuarantined(string sessionId, int maxAttempts);

    // Without the exception's stack: the usual cause is a silo that died, and the claim may even have happened
    // before the answer was lost; the ledger tells, and the next sweep acts on it.
    [LoggerMessage(Level = LogLevel.Information, Message = "Resume call for session {SessionId} got no answer ({ErrorType}: {Error}); the next sweep looks again")]
    private partial void LogResumeCallFailed(string sessionId, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Resumes left to the silos of a newer version than this one's {Version}")]
    private partial void LogLeftToNewerVersion(string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Resume sweep failed; retrying")]
    private partial void LogSweepFailed(Exception exception);
}
