using System.Text.Json;
using Npgsql;
using OrleansGateway.Cli.Cluster;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>Sessions of a <see cref="SiloProcessCluster"/>: posting their turns, and waiting on their ledger rows and their turns.</summary>
public static class ClusterSessions
{
    public static readonly TimeSpan CompletionTimeout = TimeSpan.FromSeconds(120);

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
        var ledger = new SessionLedger(dataSource);
        var rows = new List<LedgerRow>();
        foreach (var id in ids)
        {
            rows.Add(await ledger.GetAsync(id) ?? throw new InvalidOperationException($"{id} has no ledger row"));
        }

        return rows;
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

    /// <summary>Waits until every session is idle with all its turns completed, as <paramref name="via"/> answers.</summary>
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
}
