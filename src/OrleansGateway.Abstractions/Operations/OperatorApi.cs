using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using OrleansGateway.Sessions;

namespace OrleansGateway.Operations;

// The documents of the dashboard's operator API (/api/operator/...), JSON camelCase: the dashboard writes them, the
// `ogw` operator commands and the page (the dashboard's wwwroot) read them. Add fields, rename none.
// Nullable exactly where the API writes null: ogw reads strictly (every property present, null only where declared),
// so that an answer of another shape is reported rather than shown half empty.

/// <summary>Every error: a status code and a sentence saying what was wrong.</summary>
public sealed record ErrorResponse(string Error);

/// <summary>
/// <c>GET /api/operator/silos</c>: one silo, its membership status, and what it says about itself (null when it did not
/// answer in time). <paramref name="Reachable"/> says whether it answered; <paramref name="StartedAt"/> is its start in
/// the membership table.
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

/// <summary>
/// <c>POST /api/operator/silos/{address}/drain|restart</c>: what the silo says about itself right after it was asked
/// to stop. <paramref name="NextStop"/> is <c>drain</c> or <c>restart</c>.
/// </summary>
public sealed record SiloReportResponse(string Address, bool Active, bool Draining, int ActiveSessions, int RunningTurns, string Version, string NextStop);

/// <summary>
/// One session as the ledger has it. Properties rather than a positional record so that <see cref="SessionDetail"/>
/// can extend it and still be one flat JSON object; <c>required</c> keeps a reader's check that each one is present.
/// </summary>
public record SessionSummary
{
    public required string SessionId { get; init; }
    public required string Phase { get; init; }
    public required string? ResumeReason { get; init; }
    public required string? OwnerSilo { get; init; }
    public required int Attempts { get; init; }
    public required string? LastError { get; init; }
    public required bool Stale { get; init; }
    public required DateTimeOffset? ResumeMarkedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Since the resume marker for a session waiting to be resumed, else since its last change.</summary>
    public required long AgeSeconds { get; init; }
}

/// <summary>
/// <c>GET /api/operator/sessions</c>: a page of sessions, the cursor of the next page (null on the last), and the counts
/// of the whole ledger: the sessions of each phase, and <c>stale</c> markers.
/// </summary>
public sealed record SessionListResponse(IReadOnlyList<SessionSummary> Sessions, string? Next, IReadOnlyDictionary<string, long> Counts);

/// <summary>
/// One session in full: the summary's fields, then its fencing epoch and active turn, and its newest turns (oldest of
/// them first) as the grain has them. <see cref="TurnsUnavailable"/> says why <see cref="Turns"/> is empty when no silo
/// answered for the grain; <see cref="TurnCount"/> is all its turns and <see cref="TurnsBefore"/> the cursor of the older
/// ones for <c>GET /api/operator/sessions/{id}/turns?before=</c> (both null when no silo answered; the cursor also when
/// <see cref="Turns"/> holds every turn).
/// </summary>
public sealed record SessionDetail : SessionSummary
{
    /// <summary>For the JSON reader, which sets every property.</summary>
    [JsonConstructor]
    public SessionDetail()
    {
    }

    [SetsRequiredMembers]
    public SessionDetail(SessionSummary summary, long epoch, string? activeTurnId, IReadOnlyList<TurnResponse> turns, string? turnsUnavailable)
        : base(summary)
    {
        Epoch = epoch;
        ActiveTurnId = activeTurnId;
        Turns = turns;
        TurnsUnavailable = turnsUnavailable;
    }

    // After the summary's fields, as the README lists them: System.Text.Json would write a derived type's own first.
    [JsonPropertyOrder(1)]
    public required long Epoch { get; init; }

    [JsonPropertyOrder(1)]
    public required string? ActiveTurnId { get; init; }

    [JsonPropertyOrder(1)]
    public required IReadOnlyList<TurnResponse> Turns { get; init; }

    [JsonPropertyOrder(1)]
    public required string? TurnsUnavailable { get; init; }

    [JsonPropertyOrder(1)]
    public required int? TurnCount { get; init; }

    [JsonPropertyOrder(1)]
    public required string? TurnsBefore { get; init; }

    /// <summary>The owner's status in the membership table (<c>Dead</c> flags a session nobody runs); null when it has none.</summary>
    [JsonPropertyOrder(1)]
    public string? OwnerStatus { get; init; }

    /// <summary>When its turns last made progress (a step checkpointed, a turn started or resumed); null when never.</summary>
    [JsonPropertyOrder(1)]
    public DateTimeOffset? LastProgressAt { get; init; }
}

/// <summary>
/// <c>GET /api/operator/sessions/{id}?turns=</c>: a session with its newest turns (50 unless asked; 0-500) and its
/// history, newest event first, and its <paramref name="Timeline"/>: the history merged with its turns' transitions and the
/// stops that premarked it, newest first. <c>GET /api/operator/sessions/{id}/turns?before=&amp;limit=</c> pages back
/// through its turns with the silo API's <see cref="TurnPageResponse"/>.
/// </summary>
public sealed record SessionDetailResponse(SessionDetail Session, IReadOnlyList<EventResponse> History, IReadOnlyList<TimelineEntry>? Timeline = null);

/// <summary><c>POST /api/operator/sessions/{id}/resume|suspend|release</c>: what the action did to the session.</summary>
public sealed record SessionCommandResponse(string SessionId, string? Phase, string Message);

/// <summary>
/// One entry of the operators' history (<c>gateway_events</c>); <paramref name="WaitedSeconds"/>, on a <c>resumed</c>
/// event, is how long the session waited between its marker and the claim.
/// </summary>
public sealed record EventResponse(long Id, DateTimeOffset At, string Kind, string? SessionId, string? Silo, string? Actor, string Detail,
    double? WaitedSeconds);

/// <summary>
/// <c>GET /api/operator/events</c>: events oldest first, and the cursor (<c>last</c>, an opaque string) to pass as
/// <c>after</c> for the ones that come next. A follower sees every event exactly once, also while several silos write.
/// </summary>
public sealed record EventsResponse(IReadOnlyList<EventResponse> Events, string Last);

/// <summary>Session counts by phase name (and <c>stale</c>) at one moment.</summary>
public sealed record CountSample(DateTimeOffset At, IReadOnlyDictionary<string, long> Counts);

/// <summary><c>GET /api/operator/counts/history</c>: the dashboard's samples of the last hour, oldest first, one every <c>intervalSeconds</c>.</summary>
public sealed record CountHistoryResponse(IReadOnlyList<CountSample> Samples, double IntervalSeconds);

/// <summary><c>GET /api/operator/me</c>: who the caller is, the token's name (null when anonymous), and whether it may act.</summary>
public sealed record CallerResponse(string? Name, bool CanAct);
