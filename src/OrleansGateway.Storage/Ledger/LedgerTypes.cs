using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>
/// One row of <c>gateway_sessions</c>. <paramref name="Stale"/>: its marker is older than the freshness window by the
/// database's clock; null when the read was given no window.
/// </summary>
public sealed record LedgerRow(
    string SessionId,
    SessionPhase Phase,
    string? OwnerSilo,
    long Epoch,
    string? ActiveTurnId,
    string? ResumeReason,
    Guid? PremarkStopId,
    DateTimeOffset? ResumeMarkedAt,
    int ResumeAttempts,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int ActiveTurnStarts,
    bool? Stale = null);

/// <summary>Why a session waits to be resumed (<c>resume_reason</c>).</summary>
public static class ResumeReasons
{
    /// <summary>Its silo was asked to restart and the turn had not finished when the drain began.</summary>
    public const string RestartTimeout = "restart_timeout";

    /// <summary>Its silo was shut down and the turn had not finished when the drain began.</summary>
    public const string ShutdownTimeout = "shutdown_timeout";

    /// <summary>Its silo died without a shutdown (crash, SIGKILL before the premark); found by the sweeper.</summary>
    public const string RestartInterrupted = "restart_interrupted";

    /// <summary>Orleans deactivated it mid-turn on a silo that keeps running (e.g. its directory entry lived on a stopped silo).</summary>
    public const string Deactivated = "deactivated";

    /// <summary>Not a marker: what a turn continued after an operator lifted its suspension hears as its resume reason.</summary>
    public const string Suspended = "suspended";

    /// <summary>
    /// The ledger said idle while the grain state held unfinished work (a message acknowledged that nobody ran, e.g. by a
    /// silo of release 0.1 whose write-ahead was fenced): found by the stranded audit of any silo.
    /// </summary>
    public const string IdleWithWork = "idle_with_work";

    /// <summary>
    /// Interruptions by a planned stop (a drain's premark, re-mark or deferral): their resumes never count toward
    /// quarantine. A crash, a deactivation or a stranded turn does count, until the resumed turn makes progress.
    /// </summary>
    public static readonly IReadOnlyList<string> Planned = [RestartTimeout, ShutdownTimeout];

    /// <summary>
    /// Reasons whose resumes never count toward quarantine: the planned stops, and work found behind an idle row (nothing
    /// crashed; should the resumed turn crash its silo, that interruption counts).
    /// </summary>
    public static readonly IReadOnlyList<string> Uncounted = [.. Planned, IdleWithWork];
}

/// <summary>
/// The cluster a silo's ledger writes act for, when several clusters share the database (a blue/green switch): the
/// sessions of a silo alive in another cluster are never claimed, and such a silo counts as dead once its membership
/// row is older than <paramref name="ForeignSiloTimeout"/> (a cluster killed whole votes nobody dead) or once it
/// vanished from the membership table for <paramref name="VanishedOwnerGrace"/>.
/// </summary>
public sealed record LedgerScope(string ClusterId, TimeSpan ForeignSiloTimeout, TimeSpan VanishedOwnerGrace);

/// <summary>A session the sweeper may resume, leased to it for a short while.</summary>
public sealed record ResumeCandidate(string SessionId, long Epoch, string? Reason, DateTimeOffset MarkedAt, string? OwnerSilo);

/// <summary>
/// A won claim: the new epoch, the resumes without progress so far, how many times the turn has now been started, and
/// how long the session waited since its marker (as its resumed event records it, by the database's clock).
/// </summary>
public sealed record ResumeClaim(long Epoch, int Attempts, int TurnStarts, TimeSpan? Waited = null);

/// <summary>What a finished turn does to the session's resume markers.</summary>
public enum MarkerChange
{
    /// <summary>The turn completed: the session's markers are cleared (its interruption is over).</summary>
    Clear,
    /// <summary>The turn failed: markers stay as they are, and a resume_pending session stays resume_pending.</summary>
    Keep,
    /// <summary>Work remains but may not start on this silo (it drains): resume_pending, markers kept or written now.</summary>
    Defer,
}

/// <summary>
/// A stale interruption a new message ends: the epoch the session was seen at, the freshness window its marker is
/// older than, and the reason recorded as the session's last error.
/// </summary>
public sealed record StaleTakeover(long Epoch, TimeSpan FreshnessWindow, string Reason);

/// <summary>The stop a deferred session is marked for: its reason and the stop's id.</summary>
public sealed record DeferMark(string Reason, Guid StopId);

/// <summary>
/// What a suspension found and did: the phase <paramref name="Before"/>, and whether the row <paramref name="Changed"/>
/// (a suspension already in place is left as it is; a changed suspended row was the user's suspension, taken over).
/// </summary>
public sealed record Suspension(SessionPhase Before, bool Changed);
