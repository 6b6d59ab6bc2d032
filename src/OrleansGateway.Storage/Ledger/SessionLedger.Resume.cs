using NpgsqlTypes;

namespace OrleansGateway.Storage;

// Out of resume_pending: the sweepers' leases, the claim of a resume, and quarantine.
public sealed partial class SessionLedger
{
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
                     WHERE phase = 'resume_pending' AND NOT ({SessionQueries.Stale()})
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
            SELECT epoch, resume_attempts, active_turn_starts, now() - marked.resume_marked_at FROM claimed, marked
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("expected_epoch", expectedEpoch);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.AddNullable("turn_id", NpgsqlDbType.Text, turnId);
        command.Parameters.AddWithValue("known_starts", knownStarts);
        command.Parameters.AddWithValue("kind", EventKinds.Resumed);
        command.Parameters.AddWithValue("detail", resumedDetail);
        command.Parameters.AddWithValue("planned_reasons", ResumeReasons.Uncounted.ToArray());
        AddScope(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ResumeClaim(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<TimeSpan>(3))
            : null;
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
}
