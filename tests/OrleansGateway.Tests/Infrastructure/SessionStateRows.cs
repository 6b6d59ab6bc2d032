using System.Text.Json;
using Npgsql;
using OrleansGateway.Sessions;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// A session's durable rows as the database holds them, read from outside the silos: its grain state in
/// <c>orleansstorage</c> (the JSON of Orleans' Newtonsoft serializer, lists under <c>$values</c>) and its finished turns in
/// <c>gateway_transcript</c>. For the kill tests, which stop a silo between the two writes.
/// </summary>
public static class SessionStateRows
{
    private const string SelectState = """
        SELECT payloadbinary FROM orleansstorage
         WHERE graintypestring = @state_name AND grainidextensionstring = @session_id AND payloadbinary IS NOT NULL
        """;

    /// <summary>The session's grain state, or null while it has none.</summary>
    public static async Task<JsonElement?> ReadAsync(string connectionString, string sessionId)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(SelectState);
        AddKey(command, sessionId);
        return Parse(await command.ExecuteScalarAsync());
    }

    /// <summary>
    /// Locks the session's state row until the lock is disposed (a rollback): a silo's write of the state blocks on it,
    /// while the ledger and the transcript, other tables, take their writes. The state as it was when locked is in
    /// <see cref="HeldRow.State"/>.
    /// </summary>
    public static async Task<HeldRow> LockAsync(string connectionString, string sessionId)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var command = new NpgsqlCommand($"{SelectState} FOR UPDATE", connection, transaction);
            AddKey(command, sessionId);
            var state = Parse(await command.ExecuteScalarAsync()) ?? throw new InvalidOperationException($"{sessionId} has no grain state to lock");
            return new HeldRow(connection, transaction) { State = state };
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Inserts, without committing, the journal row of step <paramref name="step"/> of a turn: a silo's checkpoint of that
    /// step (its fenced statement, which inserts the row) waits for this transaction until the lock is disposed.
    /// </summary>
    public static async Task<HeldRow> HoldJournalStepAsync(string connectionString, string sessionId, int turnNumber, int step)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var command = new NpgsqlCommand("""
                INSERT INTO gateway_turn_journal (session_id, turn_number, step, kind, data) VALUES (@session_id, @turn_number, @step, 'held', '{}')
                """, connection, transaction);
            command.Parameters.AddWithValue("session_id", sessionId);
            command.Parameters.AddWithValue("turn_number", turnNumber);
            command.Parameters.AddWithValue("step", step);
            await command.ExecuteNonQueryAsync();
            return new HeldRow(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The turns the state lists (<c>Turns.$values</c>).</summary>
    public static IReadOnlyList<JsonElement> Turns(JsonElement state) => [.. state.GetProperty("Turns").GetProperty("$values").EnumerateArray()];

    /// <summary>The turn numbers of the session's transcript rows, in order; a number twice means a row twice.</summary>
    public static async Task<IReadOnlyList<int>> TranscriptTurnsAsync(string connectionString, string sessionId)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT coalesce(array_agg(turn_number ORDER BY turn_number), '{}') FROM gateway_transcript WHERE session_id = @session_id");
        command.Parameters.AddWithValue("session_id", sessionId);
        return (int[])(await command.ExecuteScalarAsync())!;
    }

    private static void AddKey(NpgsqlCommand command, string sessionId)
    {
        command.Parameters.AddWithValue("state_name", GatewayStorageNames.SessionState);
        command.Parameters.AddWithValue("session_id", sessionId);
    }

    private static JsonElement? Parse(object? payload) => payload is byte[] bytes ? JsonElement.Parse(bytes) : null;
}

/// <summary>A session's row locked by an open transaction; disposing rolls it back, which lets a blocked write go on.</summary>
public sealed class HeldRow(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    /// <summary>The state as it was when the lock was taken (a lock of the state row).</summary>
    public JsonElement State { get; init; }

    /// <summary>Waits until a statement of another connection waits for this lock: a silo's write of the state.</summary>
    public async Task WaitForBlockedWriteAsync()
    {
        await Eventually.UntilAsync(async () => await BlockedAsync(terminate: false) > 0, TimeSpan.FromSeconds(30),
            () => "no write waits for the locked row", pollMilliseconds: 20);
    }

    /// <summary>
    /// Ends the connections whose statements wait for this lock, as a SIGKILL of their silo would if PostgreSQL noticed it
    /// at once: it notices a dead client only when it next talks to it, so a write still waiting for the lock would run
    /// when the lock goes, after its silo died. Returns how many there were.
    /// </summary>
    public Task<int> EndBlockedWritesAsync() => BlockedAsync(terminate: true);

    private async Task<int> BlockedAsync(bool terminate)
    {
        // pg_locks, not pg_stat_activity: a transaction sees the activity view as it was at its first look, and a write
        // from a connection opened since would not be in it.
        await using var command = new NpgsqlCommand($"""
            SELECT count({(terminate ? "pg_terminate_backend(pid)" : "*")})
              FROM (SELECT DISTINCT pid FROM pg_locks WHERE NOT granted) AS waiting
             WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))
            """, connection, transaction);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private bool _disposed;

    /// <summary>Rolls back (once: a test may let go of the row early and dispose it again at its end).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await transaction.RollbackAsync();
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
