using Npgsql;

namespace OrleansGateway.Storage;

/// <summary>
/// Every statement of <c>gateway_session_clients</c>: which API client a session belongs to. A session's client is
/// written once, by its first message from a client, and never changes (not even when the session is deleted).
/// </summary>
public sealed class SessionClients(NpgsqlDataSource dataSource)
{
    /// <summary>The session's client: <paramref name="client"/> when the session had none, else the one it has.</summary>
    public async Task<string> ClaimAsync(string sessionId, string client, CancellationToken cancellationToken = default)
    {
        await using (var command = dataSource.CreateCommand("""
            INSERT INTO gateway_session_clients (session_id, client) VALUES (@session_id, @client)
            ON CONFLICT (session_id) DO NOTHING
            """))
        {
            command.Parameters.AddWithValue("session_id", sessionId);
            command.Parameters.AddWithValue("client", client);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return client;
            }
        }

        // Another client's row, committed before ours could be: read it in a statement of its own, whose snapshot has it.
        return await FindAsync(sessionId, cancellationToken)
            ?? throw new InvalidOperationException($"session {sessionId} has a client row that cannot be read");
    }

    /// <summary>The session's client, or null when no client has written to it.</summary>
    public async Task<string?> FindAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT client FROM gateway_session_clients WHERE session_id = @session_id");
        command.Parameters.AddWithValue("session_id", sessionId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }
}
