namespace OrleansGateway.Cli.Operator;

// The documents of the dashboard's operator API (/api/operator/...), as its contract names them (JSON camelCase).
// Nullable where the contract allows null; every property must be present (OperatorApiClient reads strictly), so that
// an answer of another shape is reported rather than shown half empty.

/// <summary><c>GET /api/operator/silos</c>: one silo. The last four are null when the silo does not answer.</summary>
public sealed record OperatorSilo(string Address, string Name, string Status, bool? Draining, int? ActiveSessions, int? RunningTurns, string? Version);

/// <summary>One session of a listing.</summary>
public sealed record OperatorSession(
    string SessionId,
    string Phase,
    string? ResumeReason,
    string? OwnerSilo,
    int Attempts,
    string? LastError,
    bool Stale,
    DateTimeOffset? ResumeMarkedAt,
    DateTimeOffset UpdatedAt,
    double AgeSeconds);

/// <summary>
/// <c>GET /api/operator/sessions</c>: a page; <see cref="Next"/> is the cursor of the next page (null on the last).
/// <see cref="Counts"/> has the sessions of each phase, and <c>stale</c> markers.
/// </summary>
public sealed record OperatorSessionPage(IReadOnlyList<OperatorSession> Sessions, string? Next, IReadOnlyDictionary<string, long> Counts);

/// <summary><c>GET /api/operator/sessions/{id}</c>: the session with its turns, and its history.</summary>
public sealed record OperatorSessionReport(OperatorSessionDetail Session, IReadOnlyList<OperatorEvent> History);

public sealed record OperatorSessionDetail(
    string SessionId,
    string Phase,
    string? ResumeReason,
    string? OwnerSilo,
    int Attempts,
    string? LastError,
    bool Stale,
    DateTimeOffset? ResumeMarkedAt,
    DateTimeOffset UpdatedAt,
    double AgeSeconds,
    long Epoch,
    string? ActiveTurnId,
    IReadOnlyList<OperatorTurn> Turns);

public sealed record OperatorTurn(string TurnId, string? MessageId, string Status, int StepsDone, int? StepsTotal, int Executions, string? Reply);

/// <summary>One entry of the operators' history (<c>gateway_events</c>).</summary>
public sealed record OperatorEvent(long Id, DateTimeOffset At, string Kind, string? SessionId, string? Silo, string? Actor, string? Detail);

/// <summary><c>POST /api/operator/sessions/{id}/resume|suspend|release</c>.</summary>
public sealed record OperatorSessionChange(string SessionId, string Phase, string? Message);

/// <summary><c>POST /api/operator/silos/{address}/drain|restart</c>: the silo's report after the request.</summary>
public sealed record OperatorSiloChange(string Address, bool Active, bool Draining, int ActiveSessions, int RunningTurns, string Version, string NextStop);

/// <summary>What a session action asks for; the route's last segment.</summary>
public enum SessionAction
{
    Resume,
    Suspend,
    Release,
}

/// <summary>What a silo action asks for; the route's last segment.</summary>
public enum SiloAction
{
    Drain,
    Restart,
}

/// <summary>A typed answer and the JSON it was read from, for <c>--json</c>.</summary>
public sealed record OperatorAnswer<T>(T Value, string Json);
