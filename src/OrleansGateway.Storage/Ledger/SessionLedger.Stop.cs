using NpgsqlTypes;

namespace OrleansGateway.Storage;

// Into resume_pending: the premark of a stopping silo, a session's own mark, crash detection and the audits.
public sealed partial class SessionLedger
{
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
        command.Parameters.AddNullable("stop_id", NpgsqlDbType.Uuid, stopId);
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
    /// (<c>modifiedon &gt; updated_at</c>) have their JSON read. Those are the sessions whose last turn ended within the
    /// window (the state forgets a finished turn after the statement that ends it) and claims that found nothing to run
    /// (the ETag fence): small states, read again each audit but never marked. A turn the state still lists unfinished
    /// but the transcript has is finished (its end committed, the state write after it did not happen): not work. Racing audits of several silos are harmless: the update is a
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
            SELECT n.session_id, n.epoch, n.modifiedon FROM newer n
             WHERE CASE WHEN get_byte(n.payloadbinary, 0) = 123  -- '{': never cast what is not JSON
                        THEN EXISTS (
                             SELECT 1 FROM jsonb_path_query(convert_from(n.payloadbinary, 'UTF8')::jsonb,
                                                            '$."Turns"."$values"[*] ? (!exists(@."Status") || @."Status" < 3)."TurnId"') AS t(id)
                              WHERE NOT EXISTS (
                                    SELECT 1 FROM gateway_transcript tr
                                     WHERE tr.session_id = n.session_id
                                       AND tr.turn_number = CASE WHEN t.id #>> '{}' ~ '^t[0-9]{1,9}$' THEN substr(t.id #>> '{}', 2)::int END))
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
}
