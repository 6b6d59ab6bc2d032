using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

/// <summary>
/// Every statement of <c>gateway_turn_events</c> and of the stream's notification channels. A session's events are
/// written by its grain, one at a time (its write gate), so their ids grow in commit order: a reader that sent event
/// <c>n</c> has every earlier one. An insert notifies <see cref="EventsChannel"/> with the session id at commit, when a silo
/// streams the session (<see cref="StreamWatchers"/>).
/// </summary>
public sealed class TurnEvents(NpgsqlDataSource dataSource)
{
    /// <summary>Notified with a session id when events of that session commit, if a silo streams it.</summary>
    public const string EventsChannel = "ogw_turn_events";

    /// <summary>Carries live events (text deltas, steps starting) as JSON documents; nothing of it is stored.</summary>
    public const string LiveChannel = "ogw_turn_live";

    /// <summary>PostgreSQL's bound on a notification's payload is 8000 bytes; live text is cut well below it.</summary>
    public const int MaxLivePayloadBytes = 7000;

    // The row of @e_* for session @session_id; a statement adds its condition.
    internal const string InsertEvent = """
        INSERT INTO gateway_turn_events (session_id, turn_number, kind, data)
        SELECT @session_id, @e_turn_number, @e_kind, @e_data::jsonb
        """;

    // Accepts ride with the writes of other sessions: one commit per batch, not per message.
    private readonly LedgerGroupCommit _groupCommit = new(dataSource);

    public async Task AppendAsync(string sessionId, TurnEventDraft draft, CancellationToken cancellationToken = default)
    {
        var command = new NpgsqlBatchCommand(InsertEvent);
        command.Parameters.AddWithValue("session_id", sessionId);
        AddEvent(command.Parameters, draft);
        await _groupCommit.ExecuteAsync(command, static (_, _) => Task.FromResult(true), cancellationToken);
    }

    /// <summary>At most <paramref name="limit"/> events of the session after <paramref name="afterId"/>, oldest first.</summary>
    public async Task<IReadOnlyList<TurnEvent>> ReadAfterAsync(string sessionId, long afterId, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT event_id, turn_number, kind, data::text, at FROM gateway_turn_events
             WHERE session_id = @session_id AND event_id > @after
             ORDER BY event_id
             LIMIT @limit
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<TurnEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new TurnEvent(reader.GetInt64(0), sessionId, reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.GetString(2),
                reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return events;
    }

    /// <summary>The id of the session's newest event, 0 when it has none: where a client that wants only new events starts.</summary>
    public async Task<long> LatestIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT coalesce(max(event_id), 0) FROM gateway_turn_events WHERE session_id = @session_id");
        command.Parameters.AddWithValue("session_id", sessionId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Sends live events (JSON documents of at most <see cref="MaxLivePayloadBytes"/>) to every listening silo, in order, in
    /// one statement; those of a session that no silo streams (<see cref="StreamWatchers"/>) are dropped there.
    /// </summary>
    public async Task PublishLiveAsync(IReadOnlyList<LiveNotice> notices, CancellationToken cancellationToken = default)
    {
        // The subquery's order is the order of the notifications: OFFSET 0 keeps PostgreSQL from flattening it.
        await using var command = dataSource.CreateCommand($"""
            SELECT count(pg_notify('{LiveChannel}', payload)) FROM (
            SELECT live.payload FROM unnest(@session_ids, @payloads) WITH ORDINALITY AS live(session_id, payload, n)
             WHERE {StreamWatchers.Watched}
             ORDER BY live.n OFFSET 0
            ) AS watched
            """);
        command.Parameters.AddWithValue("session_ids", NpgsqlDbType.Array | NpgsqlDbType.Text, notices.Select(notice => notice.SessionId).ToArray());
        command.Parameters.AddWithValue("payloads", NpgsqlDbType.Array | NpgsqlDbType.Text, notices.Select(notice => notice.Payload).ToArray());
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// Removes the events older than <paramref name="cutoff"/> (a client that reconnects later gets them no more), a batch at
    /// a time, oldest id first: ids follow time, so each statement looks at the index's head only and stops at the first
    /// row young enough to keep.
    /// </summary>
    public async Task<int> PruneAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            DELETE FROM gateway_turn_events
             WHERE event_id IN (SELECT event_id FROM gateway_turn_events ORDER BY event_id LIMIT @batch)
               AND at < @cutoff
            """);
        command.Parameters.AddWithValue("batch", batchSize);
        command.Parameters.AddWithValue("cutoff", cutoff.ToUniversalTime());
        var total = 0;
        for (var deleted = batchSize; deleted == batchSize;)
        {
            deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
        }

        return total;
    }

    internal static void AddEvent(NpgsqlParameterCollection parameters, TurnEventDraft? draft)
    {
        parameters.AddNullable("e_turn_number", NpgsqlDbType.Integer, draft?.TurnNumber);
        parameters.AddNullable("e_kind", NpgsqlDbType.Text, draft?.Kind);
        parameters.AddNullable("e_data", NpgsqlDbType.Text, draft?.Data);
    }
}

/// <summary>A live event of a session, as <see cref="TurnEvents.PublishLiveAsync"/> sends it.</summary>
public sealed record LiveNotice(string SessionId, string Payload);
