namespace OrleansGateway.Sessions;

/// <summary>Where a session stands in the resume lifecycle, as stored in the session ledger.</summary>
[GenerateSerializer]
public enum SessionPhase
{
    /// <summary>No turn runs and the inbox is empty.</summary>
    Idle,
    /// <summary>A turn runs, or queued inbox work waits for the running turn, on <c>owner_silo</c>.</summary>
    Running,
    /// <summary>A turn was interrupted (shutdown, restart or crash) and waits to be resumed.</summary>
    ResumePending,
    /// <summary>Stopped by a user or operator; never marked, overridden or resumed automatically.</summary>
    Suspended,
    /// <summary>Resumed too often without progress; waits for an operator to release it.</summary>
    Quarantined,
}

/// <summary>The snake_case names used on the wire (JSON) and in the ledger's <c>phase</c> column.</summary>
public static class SessionPhaseNames
{
    public const string Idle = "idle";
    public const string Running = "running";
    public const string ResumePending = "resume_pending";
    public const string Suspended = "suspended";
    public const string Quarantined = "quarantined";

    public static string ToName(this SessionPhase phase) => phase switch
    {
        SessionPhase.Idle => Idle,
        SessionPhase.Running => Running,
        SessionPhase.ResumePending => ResumePending,
        SessionPhase.Suspended => Suspended,
        SessionPhase.Quarantined => Quarantined,
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, null),
    };

    public static SessionPhase Parse(string name) => name switch
    {
        Idle => SessionPhase.Idle,
        Running => SessionPhase.Running,
        ResumePending => SessionPhase.ResumePending,
        Suspended => SessionPhase.Suspended,
        Quarantined => SessionPhase.Quarantined,
        _ => throw new FormatException($"'{name}' is not a session phase"),
    };
}
