using Npgsql;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cluster;

// What the operators' feed and the ledger say about silos coming and going, for the process scenarios' assertions.
public sealed partial class ResumeProcessTests
{
    /// <summary>The <c>silo</c> of every event of <paramref name="kind"/>, oldest first.</summary>
    private static async Task<List<string>> SiloEventsAsync(SiloProcessCluster cluster, string kind) =>
        await ReadStringsAsync(cluster, "SELECT silo FROM gateway_events WHERE kind = @kind ORDER BY id", ("kind", kind));

    /// <summary>The silo of each session's first <c>resumed</c> event: where its first resume landed.</summary>
    private static async Task<List<string>> FirstResumedOnAsync(SiloProcessCluster cluster, IReadOnlyList<string> ids) =>
        await ReadStringsAsync(cluster, $"""
            SELECT DISTINCT ON (session_id) silo FROM gateway_events
             WHERE kind = '{EventKinds.Resumed}' AND session_id = ANY(@ids) ORDER BY session_id, id
            """, ("ids", ids.ToArray()));

    /// <summary>The Active members of the cluster, as owners are written.</summary>
    private static async Task<List<string>> ActiveSilosAsync(SiloProcessCluster cluster) =>
        await ReadStringsAsync(cluster, """
            SELECT address || ':' || port || '@' || generation FROM orleansmembershiptable WHERE deploymentid = @cluster AND status = 3
            """, ("cluster", cluster.ClusterId));

    private static async Task<List<string>> ReadStringsAsync(SiloProcessCluster cluster, string sql, params (string Name, object Value)[] parameters)
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
