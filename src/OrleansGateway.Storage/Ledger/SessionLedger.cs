using Npgsql;
using NpgsqlTypes;
using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

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
public sealed partial class SessionLedger(NpgsqlDataSource dataSource, LedgerScope? scope = null)
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
        command.Parameters.AddNullable("phase", NpgsqlDbType.Text, query.Phase?.ToName());
        command.Parameters.AddNullable("owner_silo", NpgsqlDbType.Text, query.OwnerSilo);
        command.Parameters.AddNullable("stale", NpgsqlDbType.Boolean, query.Stale);
        AddFreshnessWindow(command, query.FreshnessWindow);
        command.Parameters.AddNullable("after", NpgsqlDbType.Text, query.After);
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
        command.Parameters.AddNullable("cluster_id", NpgsqlDbType.Text, scope?.ClusterId);
        command.Parameters.AddWithValue("foreign_timeout", scope?.ForeignSiloTimeout ?? TimeSpan.Zero);
        command.Parameters.AddWithValue("vanished_grace", scope?.VanishedOwnerGrace ?? TimeSpan.Zero);
    }

    private static void AddFreshnessWindow(NpgsqlCommand command, TimeSpan? freshnessWindow) =>
        command.Parameters.AddNullable("freshness_window", NpgsqlDbType.Interval, freshnessWindow);

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
