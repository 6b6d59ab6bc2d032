using Npgsql;
using NpgsqlTypes;
using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>
/// The read side of the session ledger: what the dashboard, the CLI and the grains look up in <c>gateway_sessions</c>,
/// none of it a transition. The writes are <see cref="SessionLedger"/>'s.
/// </summary>
public sealed class SessionQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// SQL: the marker of row <paramref name="row"/> (an alias with its dot, or none) is too old to be resumed, by the
    /// database's clock (a silo's never decides), as of <c>@freshness_window</c>. The rule's one statement.
    /// </summary>
    internal static string Stale(string row = "") => $"{row}phase = 'resume_pending' AND {row}resume_marked_at < now() - @freshness_window";

    private static readonly string MarkerStale = Stale();

    private static readonly string Columns = $"""
        session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, premark_stop_id,
        resume_marked_at, resume_attempts, last_error, created_at, updated_at, active_turn_starts,
        CASE WHEN @freshness_window IS NOT NULL THEN {MarkerStale} END
        """;

    /// <summary>The session's row; with <paramref name="freshnessWindow"/> it says whether its marker is stale.</summary>
    public async Task<LedgerRow?> GetAsync(string sessionId, TimeSpan? freshnessWindow = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM gateway_sessions WHERE session_id = @session_id");
        command.Parameters.AddWithValue("session_id", sessionId);
        AddFreshnessWindow(command.Parameters, freshnessWindow);
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
        AddFreshnessWindow(command.Parameters, freshnessWindow: null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadRowsAsync(reader, cancellationToken);
    }

    /// <summary>
    /// A page of sessions in id order, filtered by phase, owner and staleness, for operator listings of any size:
    /// keyset paging on the primary key (and the phase index), never an offset.
    /// </summary>
    public Task<SessionPage> ListAsync(SessionListQuery query, CancellationToken cancellationToken = default) =>
        ExecuteAsync([ListCommand(query)], reader => ReadPageAsync(reader, query.Limit, cancellationToken), cancellationToken);

    /// <summary>
    /// What one refresh of the operators' listing reads: the page <paramref name="query"/> asks for, the counts by phase
    /// and of stale markers; the three statements in one batch, one round trip.
    /// </summary>
    public Task<SessionOverview> OverviewAsync(SessionListQuery query, CancellationToken cancellationToken = default) =>
        ExecuteAsync([ListCommand(query), CountByPhaseCommand(), CountStaleCommand(query.FreshnessWindow)], async reader =>
        {
            var page = await ReadPageAsync(reader, query.Limit, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            var counts = await ReadCountsAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            return new SessionOverview(page, counts, await ReadCountAsync(reader, cancellationToken));
        }, cancellationToken);

    /// <summary>Number of sessions in each phase, every phase present (0 when none).</summary>
    /// <remarks>
    /// The dashboard asks every second. Counting idle sessions, nearly all of a large ledger, through a GROUP BY costs
    /// three times a bare count(*); so the other phases are counted through the phase index and idle is what remains of
    /// the total, both in one statement and so from one snapshot.
    /// </remarks>
    public Task<IReadOnlyDictionary<SessionPhase, long>> CountByPhaseAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync([CountByPhaseCommand()], reader => ReadCountsAsync(reader, cancellationToken), cancellationToken);

    /// <summary>Resume_pending sessions whose marker is older than <paramref name="freshnessWindow"/>: shown, never resumed.</summary>
    public Task<long> CountStaleAsync(TimeSpan freshnessWindow, CancellationToken cancellationToken = default) =>
        ExecuteAsync([CountStaleCommand(freshnessWindow)], reader => ReadCountAsync(reader, cancellationToken), cancellationToken);

    internal static NpgsqlBatchCommand ListCommand(SessionListQuery query)
    {
        var command = new NpgsqlBatchCommand($"""
            SELECT {Columns}
              FROM gateway_sessions
             WHERE {Filter}
               AND (@after IS NULL OR session_id > @after)
             ORDER BY session_id
             LIMIT @limit
            """);
        AddFilter(command.Parameters, query);
        command.Parameters.AddNullable("after", NpgsqlDbType.Text, query.After);
        command.Parameters.AddWithValue("limit", query.Limit + 1);
        return command;
    }

    /// <summary>How many sessions the listing's filters match, whatever the page: the count the listing heads with.</summary>
    internal static NpgsqlBatchCommand CountMatchingCommand(SessionListQuery query)
    {
        var command = new NpgsqlBatchCommand($"SELECT count(*) FROM gateway_sessions WHERE {Filter}");
        AddFilter(command.Parameters, query);
        return command;
    }

    internal static NpgsqlBatchCommand CountByPhaseCommand()
    {
        var command = new NpgsqlBatchCommand("""
            SELECT phase, count(*) FROM gateway_sessions WHERE phase = ANY(@busy) GROUP BY phase
            UNION ALL
            SELECT NULL, count(*) FROM gateway_sessions
            """);
        command.Parameters.AddWithValue("busy", Enum.GetValues<SessionPhase>().Where(phase => phase != SessionPhase.Idle).Select(phase => phase.ToName()).ToArray());
        return command;
    }

    internal static NpgsqlBatchCommand CountStaleCommand(TimeSpan freshnessWindow)
    {
        var command = new NpgsqlBatchCommand($"SELECT count(*) FROM gateway_sessions WHERE {MarkerStale}");
        command.Parameters.AddWithValue("freshness_window", freshnessWindow);
        return command;
    }

    private async Task<T> ExecuteAsync<T>(NpgsqlBatchCommand[] commands, Func<NpgsqlDataReader, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var command in commands)
        {
            batch.BatchCommands.Add(command);
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await read(reader);
    }

    internal static async Task<SessionPage> ReadPageAsync(NpgsqlDataReader reader, int limit, CancellationToken cancellationToken)
    {
        var rows = await ReadRowsAsync(reader, cancellationToken);

        // One row more than asked says whether there is a next page; its cursor is the last row shown.
        var more = rows.Count > limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new SessionPage(rows, more ? rows[^1].SessionId : null);
    }

    internal static async Task<IReadOnlyDictionary<SessionPhase, long>> ReadCountsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
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

    internal static async Task<long> ReadCountAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0);
    }

    private static async Task<List<LedgerRow>> ReadRowsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(ReadRow(reader));
        }

        return rows;
    }

    private static readonly string Filter = $"""
        (@phase IS NULL OR phase = @phase)
               AND (@owner_silo IS NULL OR owner_silo = @owner_silo)
               AND (@stale IS NULL OR @stale = ({MarkerStale}))
        """;

    private static void AddFilter(NpgsqlParameterCollection parameters, SessionListQuery query)
    {
        parameters.AddNullable("phase", NpgsqlDbType.Text, query.Phase?.ToName());
        parameters.AddNullable("owner_silo", NpgsqlDbType.Text, query.OwnerSilo);
        parameters.AddNullable("stale", NpgsqlDbType.Boolean, query.Stale);
        AddFreshnessWindow(parameters, query.FreshnessWindow);
    }

    private static void AddFreshnessWindow(NpgsqlParameterCollection parameters, TimeSpan? freshnessWindow) =>
        parameters.AddNullable("freshness_window", NpgsqlDbType.Interval, freshnessWindow);

    internal static LedgerRow ReadRow(NpgsqlDataReader reader) => new(
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
