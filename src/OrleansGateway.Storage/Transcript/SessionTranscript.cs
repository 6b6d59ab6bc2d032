using Npgsql;
using NpgsqlTypes;
using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>
/// Every statement of <c>gateway_transcript</c>: the finished turns of each session, appended once and read a page at a
/// time. A turn's end in the ledger appends its row in the same statement (<see cref="SessionLedger.EndTurnAsync"/>); the
/// appends here are for turns that finished elsewhere (a state of release 0.1, a stale turn abandoned). Appends are
/// idempotent: a move cut short by a crash is simply made again.
/// </summary>
public sealed class SessionTranscript(NpgsqlDataSource dataSource)
{
    // The rows of @t_* arrays for session @session_id; a statement adds its condition and the conflict clause.
    internal const string InsertTurns = """
        INSERT INTO gateway_transcript AS tr (session_id, turn_number, message_id, text, status, steps_done, steps_total,
                                              executions, reply, error, accepted_at, finished_at, input_tokens, output_tokens)
        SELECT @session_id, t.* FROM unnest(@t_number, @t_message_id, @t_text, @t_status, @t_steps_done, @t_steps_total,
                                            @t_executions, @t_reply, @t_error, @t_accepted_at, @t_finished_at,
                                            @t_input_tokens, @t_output_tokens) AS t
        """;

    internal const string OnConflict = "ON CONFLICT (session_id, turn_number) DO NOTHING";

    private const string Columns = "turn_number, message_id, status, steps_done, steps_total, executions, reply, error, input_tokens, output_tokens";

    /// <summary>Appends <paramref name="turns"/>, skipping any the transcript has already.</summary>
    public async Task AppendAsync(string sessionId, IReadOnlyCollection<FinishedTurn> turns, CancellationToken cancellationToken = default)
    {
        if (turns.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand($"{InsertTurns} {OnConflict}");
        command.Parameters.AddWithValue("session_id", sessionId);
        AddTurns(command.Parameters, turns);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The turn a message started, if that turn has finished.</summary>
    public async Task<string?> FindByMessageIdAsync(string sessionId, string messageId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT turn_number FROM gateway_transcript WHERE session_id = @session_id AND message_id = @message_id LIMIT 1");
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("message_id", messageId);
        return await command.ExecuteScalarAsync(cancellationToken) is int number ? TurnIds.Format(number) : null;
    }

    /// <summary>Which of the turns <paramref name="numbers"/> have finished: those the transcript has.</summary>
    public async Task<IReadOnlySet<int>> FinishedAmongAsync(string sessionId, IReadOnlyCollection<int> numbers, CancellationToken cancellationToken = default)
    {
        var finished = new HashSet<int>();
        if (numbers.Count == 0)
        {
            return finished;
        }

        await using var command = dataSource.CreateCommand(
            "SELECT turn_number FROM gateway_transcript WHERE session_id = @session_id AND turn_number = ANY(@numbers)");
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("numbers", numbers.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            finished.Add(reader.GetInt32(0));
        }

        return finished;
    }

    /// <summary>At most <paramref name="limit"/> finished turns numbered below <paramref name="beforeNumber"/>, newest first.</summary>
    public async Task<IReadOnlyList<TurnView>> PageAsync(string sessionId, int beforeNumber, int limit, CancellationToken cancellationToken = default)
    {
        var turns = new List<TurnView>();
        if (limit <= 0)
        {
            return turns;
        }

        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns} FROM gateway_transcript
             WHERE session_id = @session_id AND turn_number < @before
             ORDER BY turn_number DESC
             LIMIT @limit
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("before", beforeNumber);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            turns.Add(new TurnView(
                TurnIds.Format(reader.GetInt32(0)),
                reader.GetString(1),
                reader.GetString(2) == "failed" ? TurnStatus.Failed : TurnStatus.Completed,
                reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : new TokenUsage(reader.GetInt64(8), reader.IsDBNull(9) ? 0 : reader.GetInt64(9))));
        }

        return turns;
    }

    /// <summary>
    /// The newest <paramref name="limit"/> completed turns numbered below <paramref name="beforeNumber"/>, oldest first: the
    /// history a model is shown. Failed turns have no reply and are left out.
    /// </summary>
    public async Task<IReadOnlyList<Exchange>> RecentExchangesAsync(string sessionId, int beforeNumber, int limit, CancellationToken cancellationToken = default)
    {
        var exchanges = new List<Exchange>();
        if (limit <= 0)
        {
            return exchanges;
        }

        await using var command = dataSource.CreateCommand("""
            SELECT turn_number, text, reply FROM (
                SELECT turn_number, text, reply FROM gateway_transcript
                 WHERE session_id = @session_id AND turn_number < @before AND status = 'completed' AND reply IS NOT NULL
                 ORDER BY turn_number DESC
                 LIMIT @limit) AS newest
             ORDER BY turn_number
            """);
        command.Parameters.AddWithValue("session_id", sessionId);
        command.Parameters.AddWithValue("before", beforeNumber);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            exchanges.Add(new Exchange(reader.GetInt32(0), reader.GetString(1), reader.GetString(2)));
        }

        return exchanges;
    }

    internal static void AddTurns(NpgsqlParameterCollection parameters, IReadOnlyCollection<FinishedTurn> turns)
    {
        parameters.AddWithValue("t_number", turns.Select(t => t.Number).ToArray());
        parameters.AddWithValue("t_message_id", turns.Select(t => t.MessageId).ToArray());
        parameters.AddWithValue("t_text", turns.Select(t => t.Text).ToArray());
        parameters.AddWithValue("t_status", turns.Select(t => t.Status == TurnStatus.Failed ? "failed" : "completed").ToArray());
        parameters.AddWithValue("t_steps_done", turns.Select(t => t.StepsDone).ToArray());
        parameters.Add(new NpgsqlParameter("t_steps_total", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = turns.Select(t => t.StepsTotal).ToArray() });
        parameters.AddWithValue("t_executions", turns.Select(t => t.Executions).ToArray());
        parameters.Add(new NpgsqlParameter("t_reply", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = turns.Select(t => t.Reply).ToArray() });
        parameters.Add(new NpgsqlParameter("t_error", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = turns.Select(t => t.Error).ToArray() });
        parameters.AddWithValue("t_accepted_at", turns.Select(t => t.AcceptedAt.ToUniversalTime()).ToArray());
        parameters.Add(new NpgsqlParameter("t_finished_at", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            Value = turns.Select(t => t.FinishedAt?.ToUniversalTime()).ToArray(),
        });
        parameters.Add(new NpgsqlParameter("t_input_tokens", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = turns.Select(t => t.Usage?.Input).ToArray() });
        parameters.Add(new NpgsqlParameter("t_output_tokens", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = turns.Select(t => t.Usage?.Output).ToArray() });
    }
}
