using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

/// <summary>
/// The operators' history (<c>gateway_events</c>): every SQL statement of that table (the silos' deaths in
/// <c>EventHistory.Silos.cs</c>) but two, which the ledger writes in one statement with its own change: the <see cref="EventKinds.Resumed"/> event of <see cref="SessionLedger.ClaimResumeAsync"/>
/// and the erasure of a session's history with its <see cref="EventKinds.Deleted"/> event (<see cref="SessionLedger.DeleteAsync"/>).
/// </summary>
public sealed partial class EventHistory(NpgsqlDataSource dataSource)
{
    private const string Columns = "id, at, kind, session_id, silo, actor, detail, waited";

    // The feed reads the writing transaction too, for its cursor.
    private const string FeedColumns = Columns + ", tx";

    // Where the feed stops: the snapshot's xmin (no transaction before it is still running), or, when events of later
    // transactions have waited longer than @wait_limit behind it, just past the newest of those. The xid8 + 1 goes
    // through bigint since xid8 has no arithmetic.
    private const string Horizon = """
        WITH snapshot AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
        horizon AS (
        SELECT greatest(snapshot.xmin,
                        (SELECT (tx::text::bigint + 1)::text::xid8 FROM gateway_events
                          WHERE tx >= snapshot.xmin AND at < now() - @wait_limit ORDER BY tx DESC LIMIT 1)) AS xmin
          FROM snapshot)
        """;

    /// <summary>
    /// How long the feed holds events back behind a transaction that is still open. Past it they are listed, and an
    /// event that transaction writes (it has then been open at least this long) can be missed by a follower.
    /// </summary>
    public TimeSpan FeedWaitLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The advisory lock a pruner holds, so that two silos never prune at once (ASCII "ogw\0prun").</summary>
    public const long PruneLockKey = 0x6F67_7700_7072_756E;

    /// <summary>
    /// Deletes the events older than <paramref name="cutoff"/>, oldest first, <paramref name="batchSize"/> rows per
    /// statement so that no statement holds many row locks or a long snapshot. Skipped when another pruner holds
    /// <see cref="PruneLockKey"/>.
    /// </summary>
    public async Task<EventPruneResult> PruneAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken = default)
    {
        // A session lock, not a transaction's: one transaction over all batches would hold the feed's horizon back.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection))
        {
            tryLock.Parameters.AddWithValue("key", PruneLockKey);
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken))!)
            {
                return new EventPruneResult(Skipped: true, Deleted: 0, Batches: 0);
            }
        }

        try
        {
            // Only the oldest rows by id are looked at: ids follow time, and the statement stays cheap when nothing is old.
            await using var delete = new NpgsqlCommand("""
                DELETE FROM gateway_events
                 WHERE id IN (SELECT id FROM (SELECT id, at FROM gateway_events ORDER BY id LIMIT @batch) AS oldest WHERE at < @cutoff)
                """, connection);
            delete.Parameters.AddWithValue("batch", batchSize);
            delete.Parameters.AddWithValue("cutoff", cutoff);
            var (deleted, batches) = (0, 0);
            int removed;
            while ((removed = await delete.ExecuteNonQueryAsync(cancellationToken)) > 0)
            {
                deleted += removed;
                batches++;
            }

            return new EventPruneResult(Skipped: false, deleted, batches);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", PruneLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public async Task AppendAsync(string kind, string? sessionId, string? silo, string? actor, string detail, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO gateway_events (kind, session_id, silo, actor, detail) VALUES (@kind, @session_id, @silo, @actor, @detail)");
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.AddNullable("session_id", NpgsqlDbType.Text, sessionId);
        command.Parameters.AddNullable("silo", NpgsqlDbType.Text, silo);
        command.Parameters.AddNullable("actor", NpgsqlDbType.Text, actor);
        command.Parameters.AddWithValue("detail", detail);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The feed after <paramref name="after"/>, oldest first: only events whose transaction is older than every one
    /// still running, so that none can appear behind the cursor later, unless that wait exceeds <see cref="FeedWaitLimit"/>. The next cursor is the last event's when the
    /// page is full, else the horizon itself (nothing that commits from now on sorts before it).
    /// </summary>
    public Task<EventFeedPage> ReadAfterAsync(EventCursor after, int limit, CancellationToken cancellationToken = default) =>
        ReadAfterAsync(connection: null, after, limit, cancellationToken);

    /// <summary>As <see cref="ReadAfterAsync(EventCursor, int, CancellationToken)"/>, on <paramref name="connection"/> (and its transaction's snapshot) when given.</summary>
    internal async Task<EventFeedPage> ReadAfterAsync(NpgsqlConnection? connection, EventCursor after, int limit, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"""
            {Horizon}
            SELECT horizon.xmin, page.*
              FROM horizon
              LEFT JOIN LATERAL (SELECT {FeedColumns} FROM gateway_events
                                  WHERE (tx, id) > (@after_tx, @after_id) AND tx < horizon.xmin
                                  ORDER BY tx, id LIMIT @limit) AS page ON true
             ORDER BY page.tx, page.id
            """);
        command.Parameters.Add(new NpgsqlParameter("after_tx", NpgsqlDbType.Xid8) { Value = after.Transaction });
        command.Parameters.AddWithValue("wait_limit", FeedWaitLimit);
        command.Parameters.AddWithValue("after_id", after.Id);
        command.Parameters.AddWithValue("limit", limit);
        var (events, last, horizon) = await ReadFeedAsync(command, cancellationToken);
        var next = events.Count == limit ? last : new EventCursor(horizon, 0);
        return new EventFeedPage(events, next.CompareTo(after) > 0 ? next : after);
    }

    /// <summary>The newest <paramref name="limit"/> events of the feed, oldest first, and the cursor to follow it from: where a feed starts.</summary>
    public Task<EventFeedPage> ReadLatestAsync(int limit, CancellationToken cancellationToken = default) =>
        ReadLatestAsync(connection: null, limit, cancellationToken);

    internal async Task<EventFeedPage> ReadLatestAsync(NpgsqlConnection? connection, int limit, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"""
            {Horizon}
            SELECT horizon.xmin, page.*
              FROM horizon
              LEFT JOIN LATERAL (SELECT {FeedColumns} FROM gateway_events WHERE tx < horizon.xmin
                                  ORDER BY tx DESC, id DESC LIMIT @limit) AS page ON true
             ORDER BY page.tx, page.id
            """);
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("wait_limit", FeedWaitLimit);
        var (events, _, horizon) = await ReadFeedAsync(command, cancellationToken);
        return new EventFeedPage(events, new EventCursor(horizon, 0));
    }

    /// <summary>A session's history, newest first.</summary>
    public async Task<IReadOnlyList<GatewayEvent>> ReadForSessionAsync(string sessionId, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM gateway_events WHERE session_id = @session_id ORDER BY id DESC LIMIT @limit");
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadAsync(command, cancellationToken);
    }

    private NpgsqlCommand Command(NpgsqlConnection? connection, string sql) =>
        connection is null ? dataSource.CreateCommand(sql) : new NpgsqlCommand(sql, connection);

    private static async Task<IReadOnlyList<GatewayEvent>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<GatewayEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(ReadEvent(reader, first: 0));
        }

        return events;
    }

    /// <summary>Rows of <c>horizon, {FeedColumns}</c>: one row of nulls but the horizon when no event qualifies.</summary>
    private static async Task<(List<GatewayEvent> Events, EventCursor Last, ulong Horizon)> ReadFeedAsync(NpgsqlCommand command,
        CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<GatewayEvent>();
        var (last, horizon) = (EventCursor.Start, 0UL);
        while (await reader.ReadAsync(cancellationToken))
        {
            horizon = reader.GetFieldValue<ulong>(0);
            if (!reader.IsDBNull(1))
            {
                var entry = ReadEvent(reader, first: 1);
                events.Add(entry);
                last = new EventCursor(reader.GetFieldValue<ulong>(9), entry.Id);
            }
        }

        return (events, last, horizon);
    }

    private static GatewayEvent ReadEvent(NpgsqlDataReader reader, int first) => new(
        reader.GetInt64(first),
        reader.GetFieldValue<DateTimeOffset>(first + 1),
        reader.GetString(first + 2),
        reader.IsDBNull(first + 3) ? null : reader.GetString(first + 3),
        reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        reader.IsDBNull(first + 5) ? null : reader.GetString(first + 5),
        reader.GetString(first + 6),
        reader.IsDBNull(first + 7) ? null : reader.GetFieldValue<TimeSpan>(first + 7));
}
