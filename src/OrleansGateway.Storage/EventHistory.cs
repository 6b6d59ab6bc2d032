using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

/// <summary>One entry of the operators' history.</summary>
public sealed record GatewayEvent(long Id, DateTimeOffset At, string Kind, string? SessionId, string? Silo, string? Actor, string Detail);

/// <summary>What happened, in the words of <c>gateway_events.kind</c>.</summary>
public static class EventKinds
{
    public const string Premark = "premark";
    public const string DrainFinished = "drain_finished";
    public const string DrainTimedOut = "drain_timed_out";
    public const string CrashDetected = "crash_detected";
    public const string Resumed = "resumed";
    public const string Quarantined = "quarantined";
    public const string Suspended = "suspended";
    public const string SuspensionLifted = "suspension_lifted";
    public const string Released = "released";
    public const string StopRequested = "stop_requested";

    /// <summary>An operator acted through the dashboard (also when refused); <c>actor</c> is the operator token's name.</summary>
    public const string OperatorAction = "operator_action";
}

/// <summary>
/// The operators' history (<c>gateway_events</c>): every SQL statement of that table but one, the <see cref="EventKinds.Resumed"/>
/// event that <see cref="SessionLedger.ClaimResumeAsync"/> appends in the statement of the claim itself.
/// </summary>
public sealed class EventHistory(NpgsqlDataSource dataSource)
{
    public async Task AppendAsync(string kind, string? sessionId, string? silo, string? actor, string detail, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO gateway_events (kind, session_id, silo, actor, detail) VALUES (@kind, @session_id, @silo, @actor, @detail)");
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.Add(new NpgsqlParameter("session_id", NpgsqlDbType.Text) { Value = (object?)sessionId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("silo", NpgsqlDbType.Text) { Value = (object?)silo ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("actor", NpgsqlDbType.Text) { Value = (object?)actor ?? DBNull.Value });
        command.Parameters.AddWithValue("detail", detail);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Events after <paramref name="afterId"/>, oldest first: a feed that a client follows with the last id it saw.</summary>
    public async Task<IReadOnlyList<GatewayEvent>> ReadAfterAsync(long afterId, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, at, kind, session_id, silo, actor, detail FROM gateway_events WHERE id > @after ORDER BY id LIMIT @limit");
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>The newest <paramref name="limit"/> events, oldest first: where a feed starts.</summary>
    public async Task<IReadOnlyList<GatewayEvent>> ReadLatestAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT * FROM (SELECT id, at, kind, session_id, silo, actor, detail FROM gateway_events ORDER BY id DESC LIMIT @limit) AS latest
            ORDER BY id
            """);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>A session's history, newest first.</summary>
    public async Task<IReadOnlyList<GatewayEvent>> ReadForSessionAsync(string sessionId, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, at, kind, session_id, silo, actor, detail FROM gateway_events WHERE session_id = @session_id ORDER BY id DESC LIMIT @limit");
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadAsync(command, cancellationToken);
    }

    private static async Task<IReadOnlyList<GatewayEvent>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<GatewayEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new GatewayEvent(
                reader.GetInt64(0),
                reader.GetFieldValue<DateTimeOffset>(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6)));
        }

        return events;
    }
}
