namespace OrleansGateway.Operations;

// The documents of the operators' first view (GET /api/operator/attention, GET /api/operator/overview): what needs a
// person, and the page's whole state read at one moment. As OperatorApi.cs: add fields, rename none.

/// <summary>
/// One session that needs a person. <paramref name="Reason"/>: <c>stale</c> (waiting longer than the freshness window:
/// never resumed automatically), <c>resume_pending</c>, <c>quarantined</c>, <c>suspended</c>, or <c>failed_turn</c>
/// (idle or running, its last turn failed: <paramref name="LastError"/>). <paramref name="Since"/> is when the risk began
/// (the resume marker, else the session's last change) and <paramref name="AgeSeconds"/> its age;
/// <paramref name="OwnerDead"/> says the owner is Dead in the membership table.
/// </summary>
public sealed record AttentionItem(
    string SessionId,
    string Reason,
    string Phase,
    string? ResumeReason,
    string? OwnerSilo,
    bool OwnerDead,
    int Attempts,
    string? LastError,
    DateTimeOffset Since,
    long AgeSeconds);

/// <summary>
/// <c>GET /api/operator/attention</c>: the sessions that need a person, newest risk first (at most <c>limit</c>),
/// <paramref name="Total"/> of them in all, and how many of each reason are listed.
/// </summary>
public sealed record AttentionResponse(DateTimeOffset At, IReadOnlyList<AttentionItem> Sessions, long Total, IReadOnlyDictionary<string, long> Reasons);

/// <summary>An earlier generation of a silo (the same endpoint before a restart), collapsed under the newest one.</summary>
public sealed record SiloGenerationResponse(string Address, int Generation, string Status, DateTimeOffset StartedAt, long OwnedSessions);

/// <summary>
/// One silo as an operator thinks of it: its endpoint (<c>ip:port</c>) and newest generation, what the ledger says it
/// owns (<paramref name="OwnedSessions"/>: sessions not idle whose owner it is, and of those <paramref name="OwnedRunning"/>)
/// and, apart, what it says about itself: <paramref name="Activations"/> (session grains in its memory, idle ones too;
/// null when it did not answer). Earlier generations of the endpoint are in <paramref name="PreviousGenerations"/>.
/// </summary>
public sealed record SiloOverview(
    string Address,
    string Endpoint,
    int Generation,
    string Name,
    string Status,
    bool? Draining,
    long OwnedSessions,
    long OwnedRunning,
    int? Activations,
    int? RunningTurns,
    string? Version,
    bool Reachable,
    DateTimeOffset StartedAt,
    IReadOnlyList<SiloGenerationResponse> PreviousGenerations);

/// <summary>The listing's page in an overview, and how many sessions its filters match (<paramref name="Matching"/>).</summary>
public sealed record OverviewSessions(IReadOnlyList<SessionSummary> Sessions, string? Next, long Matching);

/// <summary>
/// <c>GET /api/operator/overview</c>: everything the page shows, read in one database snapshot (<paramref name="At"/>, the
/// database's clock): the counts by phase (with <c>stale</c>), the silos sorted by name, the attention list, a page of the
/// listing for the filters asked, and the feed after the cursor asked (the latest events without one). Only the silos'
/// own reports (activations, running turns, draining) are asked of the silos, right after.
/// </summary>
public sealed record OverviewResponse(
    DateTimeOffset At,
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyList<SiloOverview> Silos,
    AttentionResponse Attention,
    OverviewSessions Sessions,
    EventsResponse Events);

/// <summary>
/// One resume's lag split in two: <paramref name="DrainSeconds"/> waited for the stopping silo's drain to end,
/// <paramref name="ResumeSeconds"/> the resume itself took (drain end to claim; all of the lag after a crash).
/// <paramref name="StopKind"/> is the event that marked the session (<c>premark</c>, <c>drain_timed_out</c>,
/// <c>crash_detected</c>), null when none was found.
/// </summary>
public sealed record ResumeLagPoint(DateTimeOffset At, string? SessionId, string? Silo, double WaitedSeconds, double DrainSeconds, double ResumeSeconds,
    string? StopKind);

/// <summary><c>GET /api/operator/resume-lag</c>: the resumes of the last hour, oldest first.</summary>
public sealed record ResumeLagResponse(IReadOnlyList<ResumeLagPoint> Points);

/// <summary>
/// One step of a session's life in its detail's <c>timeline</c>: its own events and its turns' transitions (accepted,
/// started, interrupted, resumed, completed, failed), and the silo stop that premarked it. <paramref name="Source"/> is
/// <c>gateway</c>, <c>turn</c> or <c>stop</c>; <paramref name="TurnId"/> names the turn of a turn event.
/// </summary>
public sealed record TimelineEntry(DateTimeOffset At, string Kind, string Source, string? TurnId, string? Silo, string? Actor, string Detail,
    double? WaitedSeconds);
