using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

// A turn's bookkeeping: its write-ahead, its end, and the fence of each checkpoint.
public sealed partial class SessionLedger
{
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
        var command = new NpgsqlBatchCommand($"""
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
                    OR (s.epoch = @stale_epoch AND {SessionQueries.Stale("s.")}))
               AND NOT {TakerDeclaredDead}
            RETURNING epoch
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.AddWithValue("turn_id", turnId);
        command.Parameters.AddNullable("expected_epoch", NpgsqlDbType.Bigint, expectedEpoch);
        AddDefer(command.Parameters, defer);
        command.Parameters.AddNullable("stale_epoch", NpgsqlDbType.Bigint, staleTakeover?.Epoch);
        command.Parameters.AddWithValue("freshness_window", staleTakeover?.FreshnessWindow ?? TimeSpan.Zero);
        command.Parameters.AddNullable("stale_error", NpgsqlDbType.Text, staleTakeover?.Reason);
        return await _groupCommit.ExecuteAsync(command,
            static async (reader, ct) => await reader.ReadAsync(ct) ? reader.GetInt64(0) : (long?)null, cancellationToken);
    }

    /// <summary>
    /// A turn ended. With <paramref name="nextTurnId"/> the session goes straight on to the next queued turn
    /// (no idle window in which a stop could miss queued work), unless <paramref name="markers"/> is
    /// <see cref="MarkerChange.Defer"/> or the session was marked resume_pending while the turn ran (a premark
    /// committed after the grain last looked at the drain, crash detection): then it stays resume_pending with its
    /// markers, and only a claim runs the queued work. Fenced: null when the epoch moved on; else the new epoch and
    /// whether the session now waits for a claim. The <paramref name="finished"/> turn is appended to the transcript in the
    /// same statement, under the same fence: its end and its record commit together or not at all, and so does the event
    /// <paramref name="told"/> that tells the session's stream of it.
    /// </summary>
    public async Task<(long Epoch, bool AwaitsClaim)?> EndTurnAsync(string sessionId, long epoch, MarkerChange markers, string? error,
        string? nextTurnId, DeferMark? defer = null, FinishedTurn? finished = null, TurnEventDraft? told = null,
        CancellationToken cancellationToken = default)
    {
        // Keep, not clear, for a marked session with work queued: clearing would let the drain (or the sweepers) see a
        // running session with no interruption to resume. SET reads the row a concurrent premark left (it waits on its lock).
        const string markersAfterTurn = "CASE WHEN phase = 'resume_pending' AND @next_turn_id IS NOT NULL AND @markers = 'clear' THEN 'keep' ELSE @markers END";
        var command = new NpgsqlBatchCommand($"""
            WITH ended AS (
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
            RETURNING epoch, phase = 'resume_pending' AS awaits_claim
            ), recorded AS (
            {SessionTranscript.InsertTurns} WHERE EXISTS (SELECT 1 FROM ended) {SessionTranscript.OnConflict}
            ), told AS (
            {TurnEvents.InsertEvent} WHERE @e_kind IS NOT NULL AND EXISTS (SELECT 1 FROM ended)
            )
            SELECT epoch, awaits_claim FROM ended
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("epoch", epoch);
        command.Parameters.AddWithValue("markers", markers.ToString().ToLowerInvariant());
        command.Parameters.AddNullable("error", NpgsqlDbType.Text, error);
        command.Parameters.AddNullable("next_turn_id", NpgsqlDbType.Text, nextTurnId);
        AddDefer(command.Parameters, defer);
        SessionTranscript.AddTurns(command.Parameters, finished is null ? [] : [finished]);
        TurnEvents.AddEvent(command.Parameters, told);
        return await _groupCommit.ExecuteAsync(command,
            static async (reader, ct) => await reader.ReadAsync(ct) ? (reader.GetInt64(0), reader.GetBoolean(1)) : ((long, bool)?)null,
            cancellationToken);
    }

    /// <summary>
    /// The fence of a checkpoint, asked before each step's state is written: true while the session is still at
    /// <paramref name="epoch"/> and its owner has not been declared dead. An activation that lost the session or will
    /// lose it (its silo declared dead while still alive, an agent deaf to cancellation) learns it here, before it
    /// overwrites the new owner's checkpoint or starts another step beside the new owner's.
    /// With <paramref name="progressed"/> (a resumed turn got a step further) the resume attempts start again from 0.
    /// With a <paramref name="step"/>, its journal entry and its event are written in the same statement, under the fence:
    /// a step whose record committed is never run again.
    /// </summary>
    public async Task<bool> FenceCheckpointAsync(string sessionId, long epoch, bool progressed, StepCheckpoint? step = null,
        CancellationToken cancellationToken = default)
    {
        var command = new NpgsqlBatchCommand($"""
            WITH fence AS (
            SELECT EXISTS (SELECT 1 FROM gateway_sessions WHERE session_id = @session_id AND epoch = @epoch AND NOT {OwnerDeclaredDead}) AS held
            ), progress AS (
            UPDATE gateway_sessions SET resume_attempts = 0, updated_at = now()
             WHERE @progressed AND session_id = @session_id AND epoch = @epoch AND resume_attempts > 0
            ), journaled AS (
            {TurnJournal.InsertEntry} WHERE @j_step IS NOT NULL AND (SELECT held FROM fence) {TurnJournal.OnConflict}
            ), told AS (
            {TurnEvents.InsertEvent} WHERE @e_kind IS NOT NULL AND (SELECT held FROM fence)
            )
            SELECT held FROM fence
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("epoch", epoch);
        command.Parameters.AddWithValue("progressed", progressed);
        command.Parameters.AddWithValue("turn_number", step?.TurnNumber ?? 0);
        TurnJournal.AddEntry(command.Parameters, step?.Entry);
        TurnEvents.AddEvent(command.Parameters, step?.Event);
        return await _groupCommit.ExecuteAsync(command, static async (reader, ct) => await reader.ReadAsync(ct) && reader.GetBoolean(0),
            cancellationToken);
    }
}
