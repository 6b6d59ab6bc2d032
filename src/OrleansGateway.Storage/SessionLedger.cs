using Npgsql;
using NpgsqlTypes;
using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>One row of <c>gateway_sessions</c>.</summary>
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
    DateTimeOffset UpdatedAt);

/// <summary>
/// The session ledger: every SQL statement of the gateway's own session table lives here.
/// Writes of a grain are fenced on the epoch it holds and return the next epoch, or null when the fence
/// did not match: the caller was superseded and must stop writing.
/// </summary>
public sealed class SessionLedger(NpgsqlDataSource dataSource)
{
    private const string Columns = """
        session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, premark_stop_id,
        resume_marked_at, resume_attempts, last_error, created_at, updated_at
        """;

    /// <summary>
    /// Write-ahead record of a turn about to start: <c>running</c> on <paramref name="ownerSilo"/> with a fresh epoch.
    /// With <paramref name="expectedEpoch"/> null (an activation's first write) the claim is unconditional and
    /// fences out any older activation; otherwise it is a compare-and-set on the epoch this activation holds.
    /// </summary>
    public async Task<long?> BeginTurnAsync(string sessionId, long? expectedEpoch, string ownerSilo, string turnId,
        CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO gateway_sessions AS s (session_id, phase, owner_silo, epoch, active_turn_id)
            VALUES (@session_id, 'running', @owner_silo, 1, @turn_id)
            ON CONFLICT (session_id) DO UPDATE
               SET phase = 'running', owner_silo = @owner_silo, epoch = s.epoch + 1,
                   active_turn_id = @turn_id, updated_at = now()
             WHERE (@expected_epoch IS NULL OR s.epoch = @expected_epoch)
               AND s.phase NOT IN ('suspended', 'quarantined')
            RETURNING epoch
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("owner_silo", ownerSilo);
        command.Parameters.AddWithValue("turn_id", turnId);
        command.Parameters.Add(new NpgsqlParameter("expected_epoch", NpgsqlDbType.Bigint) { Value = (object?)expectedEpoch ?? DBNull.Value });
        return (long?)await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// A turn ended. On success the session's resume markers are cleared; on failure they are kept and the
    /// error recorded. With <paramref name="nextTurnId"/> the session stays <c>running</c> for the next queued
    /// turn (no idle window in which a shutdown could miss queued work), else it becomes <c>idle</c>.
    /// </summary>
    public async Task<long?> EndTurnAsync(string sessionId, long epoch, bool succeeded, string? error, string? nextTurnId,
        CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase            = CASE WHEN @next_turn_id IS NULL THEN 'idle' ELSE 'running' END,
                   active_turn_id   = @next_turn_id,
                   epoch            = epoch + 1,
                   resume_reason    = CASE WHEN @succeeded THEN NULL ELSE resume_reason END,
                   premark_stop_id  = CASE WHEN @succeeded THEN NULL ELSE premark_stop_id END,
                   resume_marked_at = CASE WHEN @succeeded THEN NULL ELSE resume_marked_at END,
                   resume_attempts  = CASE WHEN @succeeded THEN 0 ELSE resume_attempts END,
                   last_error       = @error,
                   updated_at       = now()
             WHERE session_id = @session_id AND epoch = @epoch
            RETURNING epoch
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("epoch", epoch);
        command.Parameters.AddWithValue("succeeded", succeeded);
        command.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)error ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("next_turn_id", NpgsqlDbType.Text) { Value = (object?)nextTurnId ?? DBNull.Value });
        return (long?)await command.ExecuteScalarAsync(cancellationToken);
    }

    public async Task<LedgerRow?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM gateway_sessions WHERE session_id = @session_id");
        command.Parameters.AddWithValue("session_id", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRow(reader) : null;
    }

    /// <summary>Number of sessions in each phase; phases without sessions are absent.</summary>
    public async Task<IReadOnlyDictionary<SessionPhase, long>> CountByPhaseAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT phase, count(*) FROM gateway_sessions GROUP BY phase");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<SessionPhase, long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[SessionPhaseNames.Parse(reader.GetString(0))] = reader.GetInt64(1);
        }

        return counts;
    }

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
        UpdatedAt: reader.GetFieldValue<DateTimeOffset>(11));
}
