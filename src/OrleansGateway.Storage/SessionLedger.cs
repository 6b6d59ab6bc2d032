using Npgsql;
using NpgsqlTypes;
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

/// <summary>What the ledger says after a claim of a resume_pending session.</summary>
/// <summary>A won claim: the new epoch, the resumes without progress so far, and how many times the turn has now been started.</summary>
public sealed record ResumeClaim(long Epoch, int Attempts, int TurnStarts);

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
/// The session ledger and its state machine: every SQL statement of <c>gateway_sessions</c>, one method per
/// transition.
/// <code>
///   idle ──BeginTurn──▶ running ──EndTurn──▶ idle | running (next turn) | resume_pending (work left, silo drains)
///   running ──Premark / MarkSelf / MarkOrphaned──▶ resume_pending        (stop, deactivation, dead owner)
///   idle ──MarkIdleWithWork──▶ resume_pending                            (unfinished work in the grain state)
///   resume_pending ──EndTurn──▶ idle (completed, nothing queued) | resume_pending (marked while the turn ran)
///   resume_pending ──ClaimResume (CAS epoch+phase)──▶ running | idle      (nothing left to do)
///   resume_pending ──QuarantineExhausted──▶ quarantined                    (too many resumes without progress)
///   any ──Suspend──▶ suspended ──LiftSuspension──▶ running | idle | resume_pending
/// </code>
/// Writes of a grain are fenced on the epoch it holds; a changed epoch means the grain lost the session and
/// must stop writing. Premark, crash detection and quarantine are set-based and leave the epoch alone, so a
/// turn that finishes during a drain can still record its end. <c>resume_marked_at</c> is written once per
/// interruption (when a row leaves <c>running</c>) and cleared by a claim: bookkeeping never refreshes it.
/// </summary>
public sealed class SessionLedger(NpgsqlDataSource dataSource, LedgerScope? scope = null)
{
    private const string MemberAddress = MembershipTable.MemberAddress;

    // The session's owner is a silo of another cluster that is alive or draining: only that cluster may resume it.
    private const string OwnerAliveElsewhere = $"""
        EXISTS (SELECT 1 FROM orleansmembershiptable m
                 WHERE {MemberAddress} = gateway_sessions.owner_silo AND m.deploymentid <> @cluster_id
                   AND m.status <> 6 AND m.iamalivetime > now() - @foreign_timeout)
        """;

    // The owner was declared dead and runs still: a zombie (frozen, cut off) that has not learnt it yet. Its fenced writes
    // fail, so that it starts no further step while crash detection may be handing the session to another silo.
    private const string OwnerDeclaredDead = $"""
        EXISTS (SELECT 1 FROM orleansmembershiptable m WHERE {MemberAddress} = gateway_sessions.owner_silo AND m.status = 6)
        """;

    // The same of the silo that asks to take a session (@owner_silo): a woken zombie takes no new work either.
    private const string TakerDeclaredDead = $"""
        EXISTS (SELECT 1 FROM orleansmembershiptable m WHERE {MemberAddress} = @owner_silo AND m.status = 6)
        """;

    // A marker too old to be resumed, by the database's clock: a silo's clock never decides.
    private const string MarkerStale = "phase = 'resume_pending' AND resume_marked_at < now() - @freshness_window";

    private const string Columns = $"""
        session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, premark_stop_id,
        resume_marked_at, resume_attempts, last_error, created_at, updated_at, active_turn_starts,
        CASE WHEN @freshness_window IS NOT NULL THEN {MarkerStale} END
        """;

    /// <summary>
    /// Write-ahead record of a turn about to start on an idle session (or one this activation already runs):
    /// <c>running</c> on <paramref name="ownerSilo"/> with a fresh epoch. With <paramref name="defer"/> (the silo
    /// drains) the session becomes resume_pending instead, to run elsewhere. Null when the session is not
    /// idle (running elsewhere, waiting to be resumed, suspended, quarantined): the work stays queued for whoever
    /// takes the session next. With <paramref name="staleTakeover"/> a resume_pending session whose marker is older than
    /// the freshness window (never resumed automatically) is taken too, at the epoch the caller saw, and its reason is
    /// recorded as the last error. Null too when <paramref name="ownerSilo"/> was declared dead (a woken zombie).
    /// </summary>
    public async Task<long?> BeginTurnAsync(string sessionId, long? expectedEpoch, string ownerSilo, string turnId, DeferMark? defer = null,
        StaleTakeover? staleTakeover = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO gateway_sessions AS s (session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, premark_stop_id, resume_marked_at)
            SELECT @session_id, CASE WHEN @defer_reason IS NULL THEN 'running' ELSE 'resume_pending' END, @owner_silo, 1, @turn_id,
                   @defer_reason, @defer_stop_id, CASE WHEN @defer_reason IS NOT NULL THEN now() END
             WHERE NOT {TakerDeclaredDead}
            ON CONFLICT (session_id) DO UPDATE
               SET phase = excluded.phase, owner_silo = @owner_silo, epoch = s.epoch + 1, active_turn_id = @turn_id,
                   active_turn_starts = CASE WHEN s.active_turn_id IS NOT DISTINCT FROM @turn_id THEN s.active_turn_starts ELSE 0 END,
                   resume_attempts = CASE WHEN s.active_turn_id IS NOT DISTINCT FROM @turn_id THEN s.resume_attempts ELSE 0 END,
                   resume_reason = excluded.resume_reason, premark_stop_id = excluded.premark_stop_id,
                   resume_marked_at = excluded.resume_marked_at, last_error = coalesce(@stale_error, s.last_error), updated_at = now()
             WHERE (s.phase = 'idle' OR (s.phase = 'running' AND s.epoch = @expected_epoch)
                    OR (s.phase = 'resume_pending' AND s.epoch = @stale_epoch AND s.resume_marked_at < now() - @freshness_window))
               AND NOT {TakerDeclaredDead}
            RETURNING epoch
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.AddWithValue("turn_id", turnId);
        command.Parameters.Add(Nullable("expected_epoch", NpgsqlDbType.Bigint, expectedEpoch));
        command.Parameters.Add(Nullable("defer_reason", NpgsqlDbType.Text, defer?.Reason));
        command.Parameters.Add(Nullable("defer_stop_id", NpgsqlDbType.Uuid, defer?.StopId));
        command.Parameters.Add(Nullable("stale_epoch", NpgsqlDbType.Bigint, staleTakeover?.Epoch));
        command.Parameters.AddWithValue("freshness_window", staleTakeover?.FreshnessWindow ?? TimeSpan.Zero);
        command.Parameters.Add(Nullable("stale_error", NpgsqlDbType.Text, staleTakeover?.Reason));
        return (long?)await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// A turn ended. With <paramref name="nextTurnId"/> the session goes straight on to the next queued turn
    /// (no idle window in which a stop could miss queued work), unless <paramref name="markers"/> is
    /// <see cref="MarkerChange.Defer"/> or the session was marked resume_pending while the turn ran (a premark
    /// committed after the grain last looked at the drain, crash detection): then it stays resume_pending with its
    /// markers, and only a claim runs the queued work. Fenced: null when the epoch moved on; else the new epoch and
    /// whether the session now waits for a claim.
    /// </summary>
    public async Task<(long Epoch, bool AwaitsClaim)?> EndTurnAsync(string sessionId, long epoch, MarkerChange markers, string? error,
        string? nextTurnId, DeferMark? defer = null, CancellationToken cancellationToken = default)
    {
        // Keep, not clear, for a marked session with work queued: clearing would let the drain (or the sweepers) see a
        // running session with no interruption to resume. SET reads the row a concurrent premark left (it waits on its lock).
        const string markersAfterTurn = "CASE WHEN phase = 'resume_pending' AND @next_turn_id IS NOT NULL AND @markers = 'clear' THEN 'keep' ELSE @markers END";
        await using var command = dataSource.CreateCommand($"""
            UPDATE gateway_sessions
               SET phase            = CASE
                                        WHEN @markers = 'defer' THEN 'resume_pending'
                                        WHEN phase = 'resume_pending' AND {markersAfterTurn} = 'keep' THEN 'resume_pending'
                                        WHEN @next_turn_id IS NOT NULL THEN 'running'
                                        ELSE 'idle' END,
                   active_turn_id   = @next_turn_id,
                   active_turn_starts = CASE WHEN active_turn_id IS NOT DISTINCT FROM @next_turn_id THEN active_turn_starts ELSE 0 END,
                   epoch            = epoch + 1,
                   resume_reason    = CASE {markersAfterTurn} WHEN 'clear' THEN NULL
                                                    WHEN 'defer' THEN coalesce(resume_reason, @defer_reason)
                                                    ELSE resume_reason END,
                   premark_stop_id  = CASE {markersAfterTurn} WHEN 'clear' THEN NULL
                                                    WHEN 'defer' THEN coalesce(premark_stop_id, @defer_stop_id)
                                                    ELSE premark_stop_id END,
                   resume_marked_at = CASE {markersAfterTurn} WHEN 'clear' THEN NULL
                                                    WHEN 'defer' THEN coalesce(resume_marked_at, now())
                                                    ELSE resume_marked_at END,
                   resume_attempts  = CASE {markersAfterTurn} WHEN 'clear' THEN 0 ELSE resume_attempts END,
                   last_error       = coalesce(@error, CASE {markersAfterTurn} WHEN 'clear' THEN NULL ELSE last_error END),
                   updated_at       = now()
             WHERE session_id = @session_id AND epoch = @epoch AND NOT {OwnerDeclaredDead}
            RETURNING epoch, phase = 'resume_pending'
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("epoch", epoch);
        command.Parameters.AddWithValue("markers", markers.ToString().ToLowerInvariant());
        command.Parameters.Add(Nullable("error", NpgsqlDbType.Text, error));
        command.Parameters.Add(Nullable("next_turn_id", NpgsqlDbType.Text, nextTurnId));
        command.Parameters.Add(Nullable("defer_reason", NpgsqlDbType.Text, defer?.Reason));
        command.Parameters.Add(Nullable("defer_stop_id", NpgsqlDbType.Uuid, defer?.StopId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetBoolean(1)) : null;
    }

    /// <summary>
    /// The premark: every session <paramref name="ownerSilo"/> runs (a turn, or queued inbox work behind one)
    /// becomes resume_pending, in one statement, which also records the silo as draining (for placement and the
    /// sweepers of other silos). Suspended and already resume_pending sessions are not <c>running</c> and are left
    /// alone. Run again after a drain timeout it catches what runs now.
    /// </summary>
    public async Task<int> PremarkAsync(string ownerSilo, Guid stopId, string reason, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            WITH draining AS (
            UPDATE gateway_silos SET draining_since = coalesce(draining_since, now()) WHERE address = @owner_silo
            )
            UPDATE gateway_sessions
               SET phase = 'resume_pending', resume_reason = @reason, premark_stop_id = @stop_id,
                   resume_marked_at = now(), updated_at = now()
             WHERE owner_silo = @owner_silo AND phase = 'running'
            """);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.AddWithValue("stop_id", stopId);
        command.Parameters.AddWithValue("reason", reason);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// One session marks itself resume_pending: it has work it may not run here (its silo drains) or its
    /// turn was cut short by a deactivation. Fenced; false when the epoch moved on or it was not running.
    /// </summary>
    public async Task<bool> MarkSelfAsync(string sessionId, long epoch, string reason, Guid? stopId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase = 'resume_pending', resume_reason = @reason, premark_stop_id = @stop_id,
                   resume_marked_at = now(), updated_at = now()
             WHERE session_id = @session_id AND epoch = @epoch AND phase = 'running'
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("epoch", epoch);
        command.Parameters.AddWithValue("reason", reason);
        command.Parameters.Add(Nullable("stop_id", NpgsqlDbType.Uuid, stopId));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Crash detection: sessions still <c>running</c> on dead silos: those this cluster declared dead
    /// (<paramref name="deadSilos"/>), those any cluster's membership rows say are Dead, silos of other clusters that
    /// stopped refreshing their row, and owners that vanished from the membership table (see <see cref="LedgerScope"/>).
    /// </summary>
    /// <remarks>
    /// The marker carries when the owner was last known alive, not when its death was noticed, so that freshness
    /// judges a crash as old as it is: the later of its membership row's last heartbeat and its own last write of the
    /// session's row, never later than now (a silo's clock may run ahead). An owner without a membership row
    /// (trimmed by Orleans long after the silo died) gets its last write: now() would make an old crash look fresh.
    /// </remarks>
    public async Task<int> MarkOrphanedAsync(IReadOnlyCollection<string> deadSilos, CancellationToken cancellationToken = default)
    {
        // GREATEST ignores the NULL of an owner without a membership row. SET reads the row as it was (updated_at).
        await using var command = dataSource.CreateCommand($"""
            UPDATE gateway_sessions
               SET phase = 'resume_pending', resume_reason = 'restart_interrupted', premark_stop_id = NULL,
                   resume_marked_at = LEAST(now(), GREATEST(updated_at, (
                       SELECT max(m.iamalivetime) FROM orleansmembershiptable m WHERE {MemberAddress} = gateway_sessions.owner_silo))),
                   updated_at = now()
             WHERE phase = 'running'
               AND (owner_silo = ANY(@dead_silos)
                    OR (@cluster_id IS NOT NULL AND EXISTS (
                          SELECT 1 FROM orleansmembershiptable m
                           WHERE {MemberAddress} = gateway_sessions.owner_silo
                             AND (m.status = 6 OR (m.deploymentid <> @cluster_id AND m.iamalivetime < now() - @foreign_timeout))))
                    OR (@cluster_id IS NOT NULL AND updated_at < now() - @vanished_grace AND NOT EXISTS (
                          SELECT 1 FROM orleansmembershiptable m WHERE {MemberAddress} = gateway_sessions.owner_silo)))
            """);
        command.Parameters.AddWithValue("dead_silos", deadSilos.ToArray());
        AddScope(command);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The live silo's own audit: sessions it owns as <c>running</c> whose turn does not run here (an activation that
    /// went away without recording it, e.g. on a storage error) become resume_pending. Rows written in the last
    /// <paramref name="settle"/> are left alone: a turn may be just starting.
    /// </summary>
    public async Task<IReadOnlyList<string>> MarkStrandedAsync(string ownerSilo, IReadOnlyCollection<string> runningHere, TimeSpan settle,
        CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase = 'resume_pending', resume_reason = 'deactivated', premark_stop_id = NULL,
                   resume_marked_at = now(), updated_at = now()
             WHERE owner_silo = @owner_silo AND phase = 'running'
               AND session_id <> ALL(@running_here) AND updated_at < now() - @settle
            RETURNING session_id
            """);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.AddWithValue("running_here", runningHere.ToArray());
        command.Parameters.AddWithValue("settle", settle);
        return await ReadStringsAsync(command, cancellationToken);
    }

    /// <summary>
    /// The audit's other half, for every silo's sweeper: idle sessions whose grain state holds unfinished work (a turn
    /// queued, running or interrupted) become resume_pending (<see cref="ResumeReasons.IdleWithWork"/>), so that the
    /// sweepers' claim runs it; whichever silo stored the message, alive or dead. Its marker is the state's last write,
    /// when the work was stored, so freshness judges it as old as it is; work stored longer ago than
    /// <paramref name="freshnessWindow"/> is not looked for (its marker would be stale, never resumed: it runs ahead of
    /// the session's next message). Rows idle for less than <paramref name="settle"/> are left alone (a turn loop may be
    /// about to take a message just queued).
    /// </summary>
    /// <remarks>
    /// Cheap for many idle sessions: the state rows written within the window are found by one scan of the grain state
    /// table, each looked up in the ledger by its key, and only those written after their idle ledger row
    /// (<c>modifiedon &gt; updated_at</c>; a session's last checkpoint comes before its turn's end) have their JSON read:
    /// few rows. A claim that
    /// found nothing to run writes the state after its idle row too (the ETag fence); its JSON shows no unfinished work, so
    /// it is read again each audit but never marked. Racing audits of several silos are harmless: the update is a
    /// compare-and-set on phase and epoch. <paramref name="stateName"/> is the grain state's name in
    /// <c>orleansstorage.graintypestring</c>, whose <c>grainidextensionstring</c> is the session id (a string key).
    /// </remarks>
    public async Task<IReadOnlyList<string>> MarkIdleWithWorkAsync(string stateName, TimeSpan settle, TimeSpan freshnessWindow,
        CancellationToken cancellationToken = default)
    {
        // The JSON of Orleans' JsonGrainStorageSerializer (Newtonsoft, $type names and $values for lists, default values
        // left out): TurnStatus is a number, absent when Queued (0); Running 1, Interrupted 2, Completed 3, Failed 4.
        // Materialized so that the JSON is read only for the rows the cheap filters let through, and the ledger is read by
        // its primary key (a join of all idle rows with all states costs several times as much at 100k sessions).
        await using var command = dataSource.CreateCommand("""
            WITH written AS MATERIALIZED (
            SELECT grainidextensionstring AS session_id, modifiedon, payloadbinary
              FROM orleansstorage
             WHERE graintypestring = @state_name AND modifiedon > now() - @freshness_window AND payloadbinary IS NOT NULL
            ), newer AS MATERIALIZED (
            SELECT s.session_id, s.epoch, w.modifiedon, w.payloadbinary
              FROM written w JOIN gateway_sessions s ON s.session_id = w.session_id
             WHERE s.phase = 'idle' AND s.updated_at < now() - @settle AND w.modifiedon > s.updated_at
            ), unfinished AS (
            SELECT session_id, epoch, modifiedon FROM newer
             WHERE CASE WHEN get_byte(payloadbinary, 0) = 123  -- '{': never cast what is not JSON
                        THEN jsonb_path_exists(convert_from(payloadbinary, 'UTF8')::jsonb,
                                               '$."Turns"."$values"[*] ? (!exists(@."Status") || @."Status" < 3)')
                        ELSE false END
            )
            UPDATE gateway_sessions AS s
               SET phase = 'resume_pending', resume_reason = @reason, premark_stop_id = NULL,
                   resume_marked_at = LEAST(now(), u.modifiedon), updated_at = now()
              FROM unfinished u
             WHERE s.session_id = ANY(ARRAY(SELECT session_id FROM unfinished))
               AND s.session_id = u.session_id AND s.epoch = u.epoch AND s.phase = 'idle'
            RETURNING s.session_id
            """);
        command.Parameters.AddWithValue("state_name", stateName);
        command.Parameters.AddWithValue("settle", settle);
        command.Parameters.AddWithValue("freshness_window", freshnessWindow);
        command.Parameters.AddWithValue("reason", ResumeReasons.IdleWithWork);
        return await ReadStringsAsync(command, cancellationToken);
    }

    /// <summary>Sessions resumed <paramref name="maxAttempts"/> times without progress are quarantined, not resumed again.</summary>
    public async Task<IReadOnlyList<string>> QuarantineExhaustedAsync(int maxAttempts, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase = 'quarantined', updated_at = now(),
                   last_error = format('quarantined after %s resumes without progress (last reason %s)%s',
                                       resume_attempts, coalesce(resume_reason, 'unknown'),
                                       coalesce(': ' || last_error, ''))
             WHERE phase = 'resume_pending' AND resume_attempts >= @max_attempts
            RETURNING session_id
            """);
        command.Parameters.AddWithValue("max_attempts", maxAttempts);
        return await ReadStringsAsync(command, cancellationToken);
    }

    /// <summary>
    /// Leases up to <paramref name="limit"/> fresh resume_pending sessions, oldest marker first, skipping rows
    /// another sweeper holds. Markers older than <paramref name="freshnessWindow"/> are stale: never leased. Sessions
    /// resumed <paramref name="maxAttempts"/> times are left for quarantine, even when a crash detection marked them
    /// again after this sweep's quarantine step. Sessions owned by <paramref name="skipOwners"/> (silos that refused or
    /// did not answer in this sweep) are left for a later one, and so are sessions of a silo alive in another cluster.
    /// </summary>
    public async Task<IReadOnlyList<ResumeCandidate>> LeaseResumableAsync(string sweeper, TimeSpan freshnessWindow, TimeSpan lease, int limit,
        int maxAttempts, IReadOnlyCollection<string>? skipOwners = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE gateway_sessions AS s
               SET resume_leased_by = @sweeper, resume_lease_until = now() + @lease
              FROM (SELECT session_id
                      FROM gateway_sessions
                     WHERE phase = 'resume_pending'
                       AND resume_marked_at >= now() - @freshness_window
                       AND (resume_lease_until IS NULL OR resume_lease_until < now())
                       AND resume_attempts < @max_attempts
                       AND (owner_silo IS NULL OR owner_silo <> ALL(@skip_owners))
                       AND NOT (@cluster_id IS NOT NULL AND {OwnerAliveElsewhere})
                     ORDER BY resume_marked_at
                     LIMIT @limit
                       FOR UPDATE SKIP LOCKED) AS picked
             WHERE s.session_id = picked.session_id
            RETURNING s.session_id, s.epoch, s.resume_reason, s.resume_marked_at, s.owner_silo
            """);
        command.Parameters.AddWithValue("sweeper", sweeper);
        command.Parameters.AddWithValue("max_attempts", maxAttempts);
        command.Parameters.AddWithValue("skip_owners", skipOwners?.ToArray() ?? []);
        command.Parameters.AddWithValue("lease", lease);
        command.Parameters.AddWithValue("freshness_window", freshnessWindow);
        command.Parameters.AddWithValue("limit", limit);
        AddScope(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var candidates = new List<ResumeCandidate>();
        while (await reader.ReadAsync(cancellationToken))
        {
            candidates.Add(new ResumeCandidate(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return candidates;
    }

    /// <summary>
    /// The claim of a resume: compare-and-set on the epoch the claimer saw and on <c>resume_pending</c>, so of
    /// any number of racing claims exactly one wins. The winner runs <paramref name="turnId"/> (or, with none
    /// left to run, the session becomes idle). Null when the claim lost, or when the owner is a silo alive in another
    /// cluster (it may still be finishing the turn). A resume after a planned stop is not an attempt toward quarantine.
    /// </summary>
    /// <remarks>
    /// A claim that resumes a turn appends its <see cref="EventKinds.Resumed"/> event (<paramref name="resumedDetail"/>,
    /// the attempt, and how long the session waited since its marker, as of the statement's snapshot) in the same statement: the history shows a resume exactly when one happened, and a
    /// restarted silo resuming a thousand sessions commits once per session, not twice.
    /// </remarks>
    /// <param name="knownStarts">How many times the grain state says <paramref name="turnId"/> was started.</param>
    public async Task<ResumeClaim?> ClaimResumeAsync(string sessionId, long expectedEpoch, string ownerSilo, string? turnId, int knownStarts,
        string resumedDetail, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH marked AS (
            SELECT resume_marked_at FROM gateway_sessions WHERE session_id = @session_id
            ), claimed AS (
            UPDATE gateway_sessions
               SET phase = CASE WHEN @turn_id IS NULL THEN 'idle' ELSE 'running' END,
                   owner_silo = @owner_silo, epoch = epoch + 1, active_turn_id = @turn_id,
                   resume_attempts = CASE WHEN @turn_id IS NULL THEN 0
                                          WHEN resume_reason = ANY(@planned_reasons) THEN resume_attempts
                                          ELSE resume_attempts + 1 END,
                   active_turn_starts = CASE WHEN @turn_id IS NULL THEN 0
                       ELSE GREATEST(CASE WHEN active_turn_id = @turn_id THEN active_turn_starts ELSE 0 END, @known_starts) + 1 END,
                   resume_reason = CASE WHEN @turn_id IS NULL THEN NULL ELSE resume_reason END,
                   premark_stop_id = NULL, resume_marked_at = NULL,
                   resume_leased_by = NULL, resume_lease_until = NULL, updated_at = now()
             WHERE session_id = @session_id AND epoch = @expected_epoch AND phase = 'resume_pending'
               AND NOT (@cluster_id IS NOT NULL AND {OwnerAliveElsewhere})
            RETURNING epoch, resume_attempts, active_turn_starts
            ), resumed AS (
            INSERT INTO gateway_events (kind, session_id, silo, detail, waited)
            SELECT @kind, @session_id, @owner_silo, @detail || ', attempt ' || resume_attempts, now() - marked.resume_marked_at
              FROM claimed, marked WHERE @turn_id IS NOT NULL
            )
            SELECT epoch, resume_attempts, active_turn_starts FROM claimed
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("expected_epoch", expectedEpoch);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.Add(Nullable("turn_id", NpgsqlDbType.Text, turnId));
        command.Parameters.AddWithValue("known_starts", knownStarts);
        command.Parameters.AddWithValue("kind", EventKinds.Resumed);
        command.Parameters.AddWithValue("detail", resumedDetail);
        command.Parameters.AddWithValue("planned_reasons", ResumeReasons.Uncounted.ToArray());
        AddScope(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new ResumeClaim(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2)) : null;
    }

    /// <summary>
    /// The turn a claim counted as started did not start after all (its silo began to drain between the claim and the
    /// turn): the start and the resume attempt go back, so that executions stay exact and a rolling restart does not
    /// push a healthy session towards quarantine. Fenced; the premark and a self-mark keep the epoch.
    /// </summary>
    public async Task WithdrawClaimedStartAsync(string sessionId, long epoch, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET active_turn_starts = active_turn_starts - 1, resume_attempts = GREATEST(resume_attempts - 1, 0)
             WHERE session_id = @session_id AND epoch = @epoch AND active_turn_starts > 0
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("epoch", epoch);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Gives a leased session back at once (its grain could not take it now), for the next sweep.</summary>
    public async Task ReleaseLeaseAsync(string sessionId, string sweeper, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions SET resume_leased_by = NULL, resume_lease_until = NULL
             WHERE session_id = @session_id AND resume_leased_by = @sweeper
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("sweeper", sweeper);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The fence of a checkpoint, asked before each step's state is written: true while the session is still at
    /// <paramref name="epoch"/> and its owner has not been declared dead. An activation that lost the session or will
    /// lose it (its silo declared dead while still alive, an agent deaf to cancellation) learns it here, before it
    /// overwrites the new owner's checkpoint or starts another step beside the new owner's.
    /// With <paramref name="progressed"/> (a resumed turn got a step further) the resume attempts start again from 0.
    /// A read unless there are attempts to reset: one statement per step, and no WAL for the common case.
    /// </summary>
    public async Task<bool> HoldsEpochAsync(string sessionId, long epoch, bool progressed, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH progress AS (
            UPDATE gateway_sessions SET resume_attempts = 0, updated_at = now()
             WHERE @progressed AND session_id = @session_id AND epoch = @epoch AND resume_attempts > 0
            )
            SELECT EXISTS (SELECT 1 FROM gateway_sessions WHERE session_id = @session_id AND epoch = @epoch AND NOT {OwnerDeclaredDead})
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("epoch", epoch);
        command.Parameters.AddWithValue("progressed", progressed);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Suspends the session whatever it was doing: the epoch moves on, so a turn still running anywhere can
    /// write nothing more. Returns the phase it had, or null for an unknown session. A user's suspension
    /// (<paramref name="byUser"/>) leaves a suspended or quarantined session as it is (the phase returned says why) and
    /// records its epoch, so that the user can lift it and nothing else; any other suspension takes that away.
    /// </summary>
    public async Task<SessionPhase?> SuspendAsync(string sessionId, bool byUser = false, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            WITH before AS (
            SELECT session_id, phase FROM gateway_sessions WHERE session_id = @session_id FOR UPDATE
            ), suspended AS (
            UPDATE gateway_sessions AS s
               SET phase = 'suspended', epoch = s.epoch + 1, user_suspension_epoch = CASE WHEN @by_user THEN s.epoch + 1 END,
                   resume_leased_by = NULL, resume_lease_until = NULL, updated_at = now()
              FROM before
             WHERE s.session_id = before.session_id AND NOT (@by_user AND before.phase IN ('suspended', 'quarantined'))
            )
            SELECT phase FROM before
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("by_user", byUser);
        return await command.ExecuteScalarAsync(cancellationToken) is string phase ? SessionPhaseNames.Parse(phase) : null;
    }

    /// <summary>
    /// Lifts a suspension: to <c>running</c> here for <paramref name="turnId"/>, to <c>idle</c> with nothing to
    /// run, or to resume_pending when <paramref name="defer"/> says this silo drains. Null when not suspended;
    /// else the new epoch and the starts of <paramref name="turnId"/> that resume claims counted (see <see cref="ClaimResumeAsync"/>).
    /// With <paramref name="userSuspensionOnly"/> only a suspension the user put in place is lifted (see <see cref="SuspendAsync"/>).
    /// </summary>
    public async Task<(long Epoch, int TurnStarts)?> LiftSuspensionAsync(string sessionId, string ownerSilo, string? turnId, DeferMark? defer,
        bool userSuspensionOnly = false, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase = CASE WHEN @turn_id IS NULL THEN 'idle' WHEN @defer_reason IS NOT NULL THEN 'resume_pending' ELSE 'running' END,
                   owner_silo = @owner_silo, epoch = epoch + 1, active_turn_id = @turn_id,
                   active_turn_starts = CASE WHEN active_turn_id IS NOT DISTINCT FROM @turn_id THEN active_turn_starts ELSE 0 END,
                   resume_attempts = 0,
                   resume_reason = CASE WHEN @turn_id IS NOT NULL AND @defer_reason IS NOT NULL THEN @defer_reason END,
                   premark_stop_id = CASE WHEN @turn_id IS NOT NULL THEN @defer_stop_id END,
                   resume_marked_at = CASE WHEN @turn_id IS NOT NULL AND @defer_reason IS NOT NULL THEN now() END,
                   user_suspension_epoch = NULL, updated_at = now()
             WHERE session_id = @session_id AND phase = 'suspended'
               AND (NOT @user_only OR user_suspension_epoch = epoch)
            RETURNING epoch, active_turn_starts
            """);
        command.Parameters.AddWithValue("user_only", userSuspensionOnly);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.Add(Nullable("turn_id", NpgsqlDbType.Text, turnId));
        command.Parameters.Add(Nullable("defer_reason", NpgsqlDbType.Text, defer?.Reason));
        command.Parameters.Add(Nullable("defer_stop_id", NpgsqlDbType.Uuid, defer?.StopId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetInt32(1)) : null;
    }

    /// <summary>The session's row; with <paramref name="freshnessWindow"/> it says whether its marker is stale.</summary>
    public async Task<LedgerRow?> GetAsync(string sessionId, TimeSpan? freshnessWindow = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM gateway_sessions WHERE session_id = @session_id");
        command.Parameters.AddWithValue("session_id", sessionId);
        AddFreshnessWindow(command, freshnessWindow);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRow(reader) : null;
    }

    /// <summary>How long the session's marker has waited, by the database's clock; null without a marker.</summary>
    public async Task<TimeSpan?> MarkerAgeAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT now() - resume_marked_at FROM gateway_sessions WHERE session_id = @session_id");
        command.Parameters.AddWithValue("session_id", sessionId);
        return await command.ExecuteScalarAsync(cancellationToken) as TimeSpan?;
    }

    /// <summary>The rows of the given sessions that exist, in one statement: for watching many sessions at once.</summary>
    public async Task<IReadOnlyList<LedgerRow>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM gateway_sessions WHERE session_id = ANY(@session_ids)");
        command.Parameters.AddWithValue("session_ids", sessionIds.ToArray());
        AddFreshnessWindow(command, freshnessWindow: null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(ReadRow(reader));
        }

        return rows;
    }

    /// <summary>
    /// Removes the session for good: its ledger row and its history, in one statement with the <see cref="EventKinds.Deleted"/>
    /// event that stays as the audit record (with the session id, so that "who deleted s-42" has an answer).
    /// </summary>
    public async Task DeleteAsync(string sessionId, string? silo, string actor, CancellationToken cancellationToken = default)
    {
        // The sub-statements share one snapshot: the history's DELETE does not see the audit event the INSERT adds.
        await using var command = dataSource.CreateCommand("""
            WITH removed AS (
            DELETE FROM gateway_sessions WHERE session_id = @session_id RETURNING phase
            ), erased AS (
            DELETE FROM gateway_events WHERE session_id = @session_id RETURNING id
            )
            INSERT INTO gateway_events (kind, session_id, silo, actor, detail)
            SELECT @kind, @session_id, @silo, @actor,
                   'was ' || coalesce((SELECT phase FROM removed), 'without a ledger row') || '; '
                   || (SELECT count(*) FROM erased) || ' events of its history erased'
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("kind", EventKinds.Deleted);
        command.Parameters.Add(Nullable("silo", NpgsqlDbType.Text, silo));
        command.Parameters.AddWithValue("actor", actor);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// An operator releases a quarantined session: it becomes resume_pending with a fresh marker and no attempts,
    /// and the sweepers resume it. False when it was not quarantined.
    /// </summary>
    public async Task<bool> ReleaseAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase = 'resume_pending', resume_attempts = 0, resume_marked_at = now(),
                   resume_reason = coalesce(resume_reason, 'released'), resume_leased_by = NULL, resume_lease_until = NULL,
                   updated_at = now()
             WHERE session_id = @session_id AND phase = 'quarantined'
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// A page of sessions in id order, filtered by phase, owner and staleness, for operator listings of any size:
    /// keyset paging on the primary key (and the phase index), never an offset.
    /// </summary>
    public async Task<SessionPage> ListAsync(SessionListQuery query, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns}
              FROM gateway_sessions
             WHERE (@phase IS NULL OR phase = @phase)
               AND (@owner_silo IS NULL OR owner_silo = @owner_silo)
               AND (@stale IS NULL OR @stale = ({MarkerStale}))
               AND (@after IS NULL OR session_id > @after)
             ORDER BY session_id
             LIMIT @limit
            """);
        command.Parameters.Add(Nullable("phase", NpgsqlDbType.Text, query.Phase?.ToName()));
        command.Parameters.Add(Nullable("owner_silo", NpgsqlDbType.Text, query.OwnerSilo));
        command.Parameters.Add(Nullable("stale", NpgsqlDbType.Boolean, query.Stale));
        AddFreshnessWindow(command, query.FreshnessWindow);
        command.Parameters.Add(Nullable("after", NpgsqlDbType.Text, query.After));
        command.Parameters.AddWithValue("limit", query.Limit + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(ReadRow(reader));
        }

        // One row more than asked says whether there is a next page; its cursor is the last row shown.
        var more = rows.Count > query.Limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new SessionPage(rows, more ? rows[^1].SessionId : null);
    }

    /// <summary>
    /// What one refresh of the operators' listing reads: the page <paramref name="query"/> asks for, the counts by phase
    /// and of stale markers, the three statements at once (each on its own pooled connection).
    /// </summary>
    public async Task<SessionOverview> OverviewAsync(SessionListQuery query, CancellationToken cancellationToken = default)
    {
        var page = ListAsync(query, cancellationToken);
        var counts = CountByPhaseAsync(cancellationToken);
        var stale = CountStaleAsync(query.FreshnessWindow, cancellationToken);
        await Task.WhenAll(page, counts, stale);
        return new SessionOverview(await page, await counts, await stale);
    }

    /// <summary>Number of sessions in each phase, every phase present (0 when none).</summary>
    /// <remarks>
    /// The dashboard asks every second. Counting idle sessions, nearly all of a large ledger, through a GROUP BY costs
    /// three times a bare count(*); so the other phases are counted through the phase index and idle is what remains of
    /// the total, both in one statement and so from one snapshot.
    /// </remarks>
    public async Task<IReadOnlyDictionary<SessionPhase, long>> CountByPhaseAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT phase, count(*) FROM gateway_sessions WHERE phase = ANY(@busy) GROUP BY phase
            UNION ALL
            SELECT NULL, count(*) FROM gateway_sessions
            """);
        command.Parameters.AddWithValue("busy", Enum.GetValues<SessionPhase>().Where(phase => phase != SessionPhase.Idle).Select(phase => phase.ToName()).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = Enum.GetValues<SessionPhase>().ToDictionary(phase => phase, _ => 0L);
        var total = 0L;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.IsDBNull(0))
            {
                total = reader.GetInt64(1);
            }
            else
            {
                counts[SessionPhaseNames.Parse(reader.GetString(0))] = reader.GetInt64(1);
            }
        }

        counts[SessionPhase.Idle] = total - counts.Values.Sum();
        return counts;
    }

    /// <summary>Resume_pending sessions whose marker is older than <paramref name="freshnessWindow"/>: shown, never resumed.</summary>
    public async Task<long> CountStaleAsync(TimeSpan freshnessWindow, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM gateway_sessions WHERE {MarkerStale}");
        command.Parameters.AddWithValue("freshness_window", freshnessWindow);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<IReadOnlyList<string>> ReadStringsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var values = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private void AddScope(NpgsqlCommand command)
    {
        command.Parameters.Add(Nullable("cluster_id", NpgsqlDbType.Text, scope?.ClusterId));
        command.Parameters.AddWithValue("foreign_timeout", scope?.ForeignSiloTimeout ?? TimeSpan.Zero);
        command.Parameters.AddWithValue("vanished_grace", scope?.VanishedOwnerGrace ?? TimeSpan.Zero);
    }

    private static void AddFreshnessWindow(NpgsqlCommand command, TimeSpan? freshnessWindow) =>
        command.Parameters.Add(Nullable("freshness_window", NpgsqlDbType.Interval, freshnessWindow));

    private static NpgsqlParameter Nullable(string name, NpgsqlDbType type, object? value) =>
        new(name, type) { Value = value ?? DBNull.Value };

    private static LedgerRow ReadRow(NpgsqlDataReader reader) => new(
        SessionId: reader.GetString(0),
        Phase: SessionPhaseNames.Parse(reader.GetString(1)),
        OwnerSilo: reader.IsDBNull(2) ? null : reader.GetString(2),
        Epoch: reader.GetInt64(3),
        ActiveTurnId: reader.IsDBNull(4) ? null : reader.GetString(4),
        ResumeReason: reader.IsDBNull(5) ? null : reader.GetString(5),
        PremarkStopId: reader.IsDBNull(6) ? null : reader.GetGuid(6),
        ResumeMarkedAt: reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
        ResumeAttempts: reader.GetInt32(8),
        LastError: reader.IsDBNull(9) ? null : reader.GetString(9),
        CreatedAt: reader.GetFieldValue<DateTimeOffset>(10),
        UpdatedAt: reader.GetFieldValue<DateTimeOffset>(11),
        ActiveTurnStarts: reader.GetInt32(12),
        Stale: reader.IsDBNull(13) ? null : reader.GetBoolean(13));
}

/// <summary>Which sessions an operator listing shows: every filter optional; <paramref name="After"/> is the previous page's cursor.</summary>
public sealed record SessionListQuery(SessionPhase? Phase, string? OwnerSilo, bool? Stale, TimeSpan FreshnessWindow, int Limit, string? After);

/// <summary>A page of sessions and the cursor of the next one (null on the last page).</summary>
public sealed record SessionPage(IReadOnlyList<LedgerRow> Sessions, string? Next);

/// <summary>A page of the operators' listing with the counts that head it: sessions by phase, and stale markers.</summary>
public sealed record SessionOverview(SessionPage Page, IReadOnlyDictionary<SessionPhase, long> Counts, long Stale);

/// <summary>
/// A stale interruption a new message ends: the epoch the session was seen at, the freshness window its marker is
/// older than, and the reason recorded as the session's last error.
/// </summary>
public sealed record StaleTakeover(long Epoch, TimeSpan FreshnessWindow, string Reason);

/// <summary>The stop a deferred session is marked for: its reason and the stop's id.</summary>
public sealed record DeferMark(string Reason, Guid StopId);
