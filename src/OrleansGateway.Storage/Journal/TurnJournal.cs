using Npgsql;
using NpgsqlTypes;
using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>
/// Every statement of <c>gateway_turn_journal</c>: the records of a turn's steps. A step's row is written by its
/// checkpoint, under the checkpoint's fence (<see cref="SessionLedger.FenceCheckpointAsync"/>); here it is read back when
/// a turn starts again.
/// </summary>
public sealed class TurnJournal(NpgsqlDataSource dataSource)
{
    // The row of @j_* for session @session_id and turn @turn_number; a statement adds its condition.
    internal const string InsertEntry = """
        INSERT INTO gateway_turn_journal (session_id, turn_number, step, kind, data, input_tokens, output_tokens)
        SELECT @session_id, @turn_number, @j_step, @j_kind, @j_data::jsonb, @j_input_tokens, @j_output_tokens
        """;

    // A checkpoint retried after its commit's answer was lost finds its own row.
    internal const string OnConflict = "ON CONFLICT (session_id, turn_number, step) DO NOTHING";

    /// <summary>The journal of turn <paramref name="turnNumber"/>, oldest step first.</summary>
    public async Task<IReadOnlyList<JournalEntry>> ReadAsync(string sessionId, int turnNumber, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT step, kind, data::text, input_tokens, output_tokens FROM gateway_turn_journal
             WHERE session_id = @session_id AND turn_number = @turn_number
             ORDER BY step
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("turn_number", turnNumber);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<JournalEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var usage = reader.IsDBNull(3) ? null : new TokenUsage(reader.GetInt64(3), reader.IsDBNull(4) ? 0 : reader.GetInt64(4));
            entries.Add(new JournalEntry(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), usage));
        }

        return entries;
    }

    internal static void AddEntry(NpgsqlParameterCollection parameters, JournalEntry? entry)
    {
        parameters.AddNullable("j_step", NpgsqlDbType.Integer, entry?.Step);
        parameters.AddNullable("j_kind", NpgsqlDbType.Text, entry?.Kind);
        parameters.AddNullable("j_data", NpgsqlDbType.Text, entry?.Data);
        parameters.AddNullable("j_input_tokens", NpgsqlDbType.Bigint, entry?.Usage?.Input);
        parameters.AddNullable("j_output_tokens", NpgsqlDbType.Bigint, entry?.Usage?.Output);
    }
}
