using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

// The operator API's JSON (camelCase). The `ogw` operator commands read exactly these shapes: add fields, rename none.

/// <summary>Every error: a status code and a sentence saying what was wrong.</summary>
public sealed record ErrorResponse(string Error);

/// <summary>
/// One silo: its membership status, and what it says about itself (null when it did not answer in time).
/// <paramref name="Reachable"/> says whether it answered; <paramref name="StartedAt"/> is its start in the membership table.
/// </summary>
public sealed record SiloResponse(
    string Address,
    string Name,
    string Status,
    bool? Draining,
    int? ActiveSessions,
    int? RunningTurns,
    string? Version,
    bool Reachable,
    DateTimeOffset StartedAt);

/// <summary>What a silo says about itself, e.g. right after it was asked to stop.</summary>
public sealed record SiloReportResponse(string Address, bool Active, bool Draining, int ActiveSessions, int RunningTurns, string Version, string NextStop)
{
    public static SiloReportResponse From(SiloReport report) => new(
        report.Address, report.Active, report.Draining, report.ActiveSessions, report.RunningTurns, report.Version,
        report.NextStop == SiloStopKind.Restart ? "restart" : "drain");
}

/// <summary>One session as the ledger has it.</summary>
public sealed record SessionSummary(
    string SessionId,
    string Phase,
    string? ResumeReason,
    string? OwnerSilo,
    int Attempts,
    string? LastError,
    bool Stale,
    DateTimeOffset? ResumeMarkedAt,
    DateTimeOffset UpdatedAt,
    long AgeSeconds)
{
    public static SessionSummary From(LedgerRow row, TimeSpan freshnessWindow, DateTimeOffset now)
    {
        var (stale, age) = Staleness(row, freshnessWindow, now);
        return new SessionSummary(row.SessionId, row.Phase.ToName(), row.ResumeReason, row.OwnerSilo, row.ResumeAttempts, row.LastError,
            stale, row.ResumeMarkedAt, row.UpdatedAt, age);
    }

    /// <summary>
    /// A marker is stale once it is older than the freshness window: the sweepers no longer resume it. The age of a
    /// session waiting to be resumed counts from its marker, any other from its last change.
    /// </summary>
    internal static (bool Stale, long AgeSeconds) Staleness(LedgerRow row, TimeSpan freshnessWindow, DateTimeOffset now)
    {
        var waiting = row is { Phase: SessionPhase.ResumePending, ResumeMarkedAt: not null };
        var since = waiting ? row.ResumeMarkedAt!.Value : row.UpdatedAt;
        return (waiting && now - since > freshnessWindow, Math.Max(0, (long)(now - since).TotalSeconds));
    }
}

/// <summary>A page of sessions, the cursor of the next page (null on the last), and the counts of the whole ledger.</summary>
public sealed record SessionListResponse(IReadOnlyList<SessionSummary> Sessions, string? Next, IReadOnlyDictionary<string, long> Counts);

/// <summary>
/// One session in full: the ledger's fields, its fencing epoch and active turn, and its turns as the grain has them.
/// <paramref name="TurnsUnavailable"/> says why <paramref name="Turns"/> is empty when no silo answered for the grain.
/// </summary>
public sealed record SessionDetail(
    string SessionId,
    string Phase,
    string? ResumeReason,
    string? OwnerSilo,
    int Attempts,
    string? LastError,
    bool Stale,
    DateTimeOffset? ResumeMarkedAt,
    DateTimeOffset UpdatedAt,
    long AgeSeconds,
    long Epoch,
    string? ActiveTurnId,
    IReadOnlyList<TurnResponse> Turns,
    string? TurnsUnavailable)
{
    public static SessionDetail From(LedgerRow row, SessionView? view, string? turnsUnavailable, TimeSpan freshnessWindow, DateTimeOffset now)
    {
        var (stale, age) = SessionSummary.Staleness(row, freshnessWindow, now);
        return new SessionDetail(row.SessionId, row.Phase.ToName(), row.ResumeReason, row.OwnerSilo, row.ResumeAttempts, row.LastError,
            stale, row.ResumeMarkedAt, row.UpdatedAt, age, row.Epoch, row.ActiveTurnId,
            view is null ? [] : [.. view.Turns.Select(TurnResponse.From)], turnsUnavailable);
    }
}

public sealed record TurnResponse(string TurnId, string MessageId, string Status, int StepsDone, int? StepsTotal, int Executions, string? Reply)
{
    public static TurnResponse From(TurnView turn) => new(
        turn.TurnId, turn.MessageId, turn.Status.ToString().ToLowerInvariant(), turn.StepsDone, turn.StepsTotal, turn.Executions, turn.Reply);
}

/// <summary>A session with its history, newest event first.</summary>
public sealed record SessionDetailResponse(SessionDetail Session, IReadOnlyList<GatewayEvent> History);

/// <summary>What an action did to a session.</summary>
public sealed record SessionCommandResponse(string SessionId, string? Phase, string Message);

/// <summary>Events oldest first, and the id to ask for the next ones after (the last one's, or the <c>after</c> asked for).</summary>
public sealed record EventsResponse(IReadOnlyList<GatewayEvent> Events, long Last);

/// <summary>Who the caller is: the token's name (null when anonymous), and whether it may act.</summary>
public sealed record CallerResponse(string? Name, bool CanAct);
