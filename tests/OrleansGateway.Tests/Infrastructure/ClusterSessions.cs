using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>Sessions of a <see cref="SiloProcessCluster"/>: posted over HTTP, watched in the ledger and through a silo.</summary>
public static class ClusterSessions
{
    public static readonly TimeSpan CompletionTimeout = TimeSpan.FromSeconds(120);

    public static Dictionary<string, string> Settings(params (string Key, string Value)[] settings) =>
        settings.ToDictionary(s => s.Key, s => s.Value);

    public static async Task PostAllAsync(IReadOnlyList<string> ids, Func<int, SiloProcess> silo, string text, string messageId = "m1")
    {
        for (var i = 0; i < ids.Count; i++)
        {
            using var response = await SiloProcessCluster.PostMessageAsync(silo(i), ids[i], new { text, messageId });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    public static async Task<IReadOnlyList<LedgerRow>> ReadLedgerAsync(SiloProcessCluster cluster, IReadOnlyList<string> ids)
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        var rows = (await new SessionQueries(dataSource).GetManyAsync([.. ids])).ToDictionary(row => row.SessionId);
        return [.. ids.Select(id => rows.TryGetValue(id, out var row) ? row : throw new InvalidOperationException($"{id} has no ledger row"))];
    }

    public static async Task<IReadOnlyList<LedgerRow>> WaitForLedgerAsync(SiloProcessCluster cluster, IReadOnlyList<string> ids,
        Func<IReadOnlyList<LedgerRow>, bool> condition, string what, TimeSpan? timeout = null)
    {
        IReadOnlyList<LedgerRow> rows = [];
        await Eventually.UntilAsync(async () =>
            {
                rows = await ReadLedgerAsync(cluster, ids);
                return condition(rows);
            },
            timeout ?? TimeSpan.FromSeconds(30),
            () => $"{what}: {string.Join("; ", rows.GroupBy(r => (r.Phase, r.ResumeReason)).Select(g => $"{g.Count()} {g.Key}"))}\n{cluster.Logs()}",
            pollMilliseconds: 50);
        return rows;
    }

    /// <summary>Waits until every session is idle with every turn completed, as <paramref name="via"/> shows them.</summary>
    public static async Task<Dictionary<string, JsonElement>> WaitUntilCompletedAsync(SiloProcessCluster cluster, IReadOnlyList<string> ids, SiloProcess via,
        TimeSpan? timeout = null)
    {
        var sessions = new Dictionary<string, JsonElement>();
        await Eventually.UntilAsync(async () =>
            {
                foreach (var id in ids.Where(id => !sessions.ContainsKey(id)))
                {
                    if (await SiloProcessCluster.GetSessionAsync(via, id) is { } session
                        && session.GetProperty("phase").GetString() == "idle"
                        && session.GetProperty("turns").EnumerateArray().All(t => t.GetProperty("status").GetString() == "completed"))
                    {
                        sessions[id] = session;
                    }
                }

                return sessions.Count == ids.Count;
            },
            timeout ?? CompletionTimeout,
            () => $"{sessions.Count} of {ids.Count} completed; first missing: {ids.First(id => !sessions.ContainsKey(id))}\n{cluster.Logs()}",
            pollMilliseconds: 500);
        return sessions;
    }

    /// <summary>How many times the session's only turn was started.</summary>
    public static int Executions(JsonElement session) => session.GetProperty("turns")[0].GetProperty("executions").GetInt32();

    public static async Task ExecuteAsync(SiloProcessCluster cluster, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The silos whose sweepers claimed each session's resumes, from the <c>resumed</c> events.</summary>
    public static async Task<ILookup<string, string>> ResumedBySessionAsync(SiloProcessCluster cluster, IReadOnlyList<string> ids)
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT session_id, silo FROM gateway_events WHERE kind = 'resumed' AND session_id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", ids.ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        var claims = new List<(string Session, string Silo)>();
        while (await reader.ReadAsync())
        {
            claims.Add((reader.GetString(0), reader.GetString(1)));
        }

        return claims.ToLookup(claim => claim.Session, claim => claim.Silo);
    }
}
