using Npgsql;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// A hash of what requests can write: the sessions' ledger rows, grain state, transcripts, turn journals and stream
/// events, and the event history but for the audit trail (operator_action), which records refused actions on purpose.
/// Equal before and after a batch of requests: none of them wrote anything.
/// </summary>
public static class DatabaseFingerprint
{
    private const string Query = """
        SELECT count(*) || ':' || md5(coalesce(string_agg(line, E'\n' ORDER BY line), '')) FROM (
            SELECT 'session ' || s::text AS line FROM gateway_sessions s
            UNION ALL SELECT 'transcript ' || t::text FROM gateway_transcript t
            UNION ALL SELECT 'journal ' || j::text FROM gateway_turn_journal j
            UNION ALL SELECT 'stream ' || e::text FROM gateway_turn_events e
            UNION ALL SELECT 'state ' || o.graintypestring || ' ' || coalesce(o.grainidextensionstring, '') || ' ' || coalesce(o.version, 0)
                FROM orleansstorage o
            UNION ALL SELECT 'event ' || g::text FROM gateway_events g WHERE g.kind <> 'operator_action'
        ) rows
        """;

    public static async Task<string> ReadAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(Query);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
