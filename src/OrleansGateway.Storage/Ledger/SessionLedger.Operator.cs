using NpgsqlTypes;
using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

// What operators do to one session: suspend, lift, release from quarantine, delete.
public sealed partial class SessionLedger
{
    /// <summary>
    /// Suspends the session whatever it was doing: the epoch moves on, so a turn still running anywhere can
    /// write nothing more. Returns the phase it had, or null for an unknown session. See <see cref="TrySuspendAsync"/>.
    /// </summary>
    public async Task<SessionPhase?> SuspendAsync(string sessionId, bool byUser = false, CancellationToken cancellationToken = default) =>
        (await TrySuspendAsync(sessionId, byUser, cancellationToken))?.Before;

    /// <summary>
    /// <see cref="SuspendAsync"/>, saying whether the row changed; null for an unknown session. A suspension that is
    /// already in place changes nothing (no epoch, no write): an operator's leaves an operator's suspension as it is, and
    /// a user's (<paramref name="byUser"/>) leaves any suspension or a quarantine as it is. A user's suspension records its
    /// epoch, so that the user can lift it and nothing else; an operator's suspension of it takes that away (a change).
    /// </summary>
    public async Task<Suspension?> TrySuspendAsync(string sessionId, bool byUser = false, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            WITH before AS (
            SELECT session_id, phase, user_suspension_epoch IS NOT DISTINCT FROM epoch AS by_user
              FROM gateway_sessions WHERE session_id = @session_id FOR UPDATE
            ), suspended AS (
            UPDATE gateway_sessions AS s
               SET phase = 'suspended', epoch = s.epoch + 1, user_suspension_epoch = CASE WHEN @by_user THEN s.epoch + 1 END,
                   resume_leased_by = NULL, resume_lease_until = NULL, updated_at = now()
              FROM before
             WHERE s.session_id = before.session_id
               AND NOT (@by_user AND before.phase IN ('suspended', 'quarantined'))
               AND NOT (NOT @by_user AND before.phase = 'suspended' AND NOT before.by_user)
            RETURNING s.session_id
            )
            SELECT phase, EXISTS (SELECT 1 FROM suspended) FROM before
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("by_user", byUser);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Suspension(SessionPhaseNames.Parse(reader.GetString(0)), reader.GetBoolean(1))
            : null;
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
        command.Parameters.AddNullable("turn_id", NpgsqlDbType.Text, turnId);
        AddDefer(command.Parameters, defer);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetInt32(1)) : null;
    }

    /// <summary>
    /// An operator releases a quarantined session: it becomes resume_pending with a fresh marker and no attempts,
    /// and the sweepers resume it. Its epoch and marker, for a claim at once; null when it was not quarantined.
    /// </summary>
    public async Task<(long Epoch, string Reason, DateTimeOffset MarkedAt)?> ReleaseAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase = 'resume_pending', resume_attempts = 0, resume_marked_at = now(),
                   resume_reason = coalesce(resume_reason, 'released'), resume_leased_by = NULL, resume_lease_until = NULL,
                   updated_at = now()
             WHERE session_id = @session_id AND phase = 'quarantined'
            RETURNING epoch, resume_reason, resume_marked_at
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2))
            : null;
    }

    /// <summary>
    /// Removes the session for good: its ledger row, its transcript and its history, in one statement with the <see cref="EventKinds.Deleted"/>
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
            ), forgotten AS (
            DELETE FROM gateway_transcript WHERE session_id = @session_id
            ), unjournaled AS (
            DELETE FROM gateway_turn_journal WHERE session_id = @session_id
            ), unstreamed AS (
            DELETE FROM gateway_turn_events WHERE session_id = @session_id
            )
            INSERT INTO gateway_events (kind, session_id, silo, actor, detail)
            SELECT @kind, @session_id, @silo, @actor,
                   'was ' || coalesce((SELECT phase FROM removed), 'without a ledger row') || '; '
                   || (SELECT count(*) FROM erased) || ' events of its history erased'
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("kind", EventKinds.Deleted);
        command.Parameters.AddNullable("silo", NpgsqlDbType.Text, silo);
        command.Parameters.AddWithValue("actor", actor);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
