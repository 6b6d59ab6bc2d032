using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

/// <summary>
/// Every statement of <c>gateway_stream_watchers</c>: which silo streams which session. Events of a session nobody
/// streams are stored without a notification (the trigger of <c>gateway_turn_events</c> asks this table), and its live
/// output is not sent at all (<see cref="TurnEvents.PublishLiveAsync"/>).
/// </summary>
public sealed class StreamWatchers(NpgsqlDataSource dataSource)
{
    // The advisory lock space of sql/021's trigger (ASCII "ow"); the second key is hashtext(session id).
    private const int LockSpace = 0x6F77;

    /// <summary>
    /// Makes <paramref name="silo"/> a watcher of the session for <paramref name="lease"/>. Returns once every event of the
    /// session that may have been stored without a notification has committed: a read after this finds it, and every
    /// later event notifies.
    /// </summary>
    public async Task WatchAsync(string sessionId, string silo, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH locked AS (SELECT pg_advisory_xact_lock({LockSpace}, hashtext(@session_id)))
            INSERT INTO gateway_stream_watchers AS w (session_id, silo, until)
            SELECT @session_id, @silo, now() + @lease FROM locked
            ON CONFLICT (session_id, silo) DO UPDATE SET until = EXCLUDED.until
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("silo", silo);
        command.Parameters.AddWithValue("lease", lease);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Extends the leases of <paramref name="silo"/> on the sessions it still streams, and returns those whose lease had
    /// lapsed (or whose row is gone): they need <see cref="WatchAsync"/> again, and their streams a fresh read.
    /// </summary>
    public async Task<IReadOnlyList<string>> RenewAsync(string silo, IReadOnlyCollection<string> sessionIds, TimeSpan lease,
        CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            WITH renewed AS (
            UPDATE gateway_stream_watchers SET until = now() + @lease
             WHERE silo = @silo AND session_id = ANY(@session_ids) AND until > now()
            RETURNING session_id
            )
            SELECT s FROM unnest(@session_ids) AS s EXCEPT SELECT session_id FROM renewed
            """);
        command.Parameters.AddWithValue("silo", silo);
        command.Parameters.AddWithValue("session_ids", NpgsqlDbType.Array | NpgsqlDbType.Text, sessionIds.ToArray());
        command.Parameters.AddWithValue("lease", lease);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var lapsed = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lapsed.Add(reader.GetString(0));
        }

        return lapsed;
    }

    /// <summary>Removes the rows whose lease ended (a silo that crashed, a stream closed long ago); any silo may.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM gateway_stream_watchers WHERE until < now()");
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Removes every row of <paramref name="silo"/>: it streams nothing any more (it stops).</summary>
    public async Task ForgetAsync(string silo, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM gateway_stream_watchers WHERE silo = @silo");
        command.Parameters.AddWithValue("silo", silo);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // A live event's condition: its session has a watcher. Read by TurnEvents' publishing statement.
    internal const string Watched = "EXISTS (SELECT 1 FROM gateway_stream_watchers w WHERE w.session_id = live.session_id AND w.until > now())";
}
