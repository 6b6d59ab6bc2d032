using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using static OrleansGateway.Tests.Infrastructure.ClusterSessions;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>Two clusters (another <c>Orleans:ClusterId</c>) on one database, as in a blue/green switch.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BlueGreenTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_blue_green_switch_loses_nothing_and_runs_nothing_twice()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bluegreen");
        await using var blue = new SiloProcessCluster(connectionString);
        await using var green = new SiloProcessCluster(connectionString);
        var settings = Settings(("Gateway__Resume__DrainTimeout", "00:00:30"), ("HostOptions__ShutdownTimeout", "00:01:00"),
            ("Gateway__Resume__ForeignSiloTimeout", "00:00:10"));
        var draining = await blue.StartSiloAsync("blue-draining", settings);
        var killed = await blue.StartSiloAsync("blue-killed", settings);
        var taker = await green.StartSiloAsync("green", settings);
        var finishing = Enumerable.Range(0, 10).Select(i => $"finishes-in-blue-{i}").ToList();
        var orphaned = Enumerable.Range(0, 10).Select(i => $"orphaned-in-blue-{i}").ToList();
        await PostAllAsync(finishing, _ => draining, "work 10x600");
        await PostAllAsync(orphaned, _ => killed, "work 20x600");
        await WaitForLedgerAsync(blue, [.. finishing, .. orphaned], rows => rows.All(r => r.Phase == SessionPhase.Running), "all running in blue");

        // Blue goes: one silo drains its turns to the end (premarked, resume_pending all the while), then the other is
        // killed, the last of blue: nobody declares it dead. Green sees both through the database only.
        draining.Terminate();
        await WaitForLedgerAsync(blue, finishing, rows => rows.Any(r => r.Phase == SessionPhase.ResumePending), "premarked");
        Assert.True(await draining.WaitForExitAsync(TimeSpan.FromSeconds(60)), blue.Logs());
        Assert.Contains("drain finished", draining.ReadLog());
        killed.Kill();

        var finished = await WaitUntilCompletedAsync(green, finishing, taker);
        Assert.All(finished, s => Assert.True(Executions(s.Value) == 1, $"{s.Key} ran again in green while blue finished it: {s.Value}"));
        var resumed = await WaitUntilCompletedAsync(green, orphaned, taker);
        Assert.All(resumed.Values, s => Assert.Equal(2, Executions(s)));
        var rows = await ReadLedgerAsync(green, orphaned);
        Assert.All(rows, row => Assert.Equal(green.ClusterId, OwnerCluster(green, row.SessionId)));
        Assert.Empty((await ResumedBySessionAsync(green, finishing)).SelectMany(claims => claims));
    }

    private static string? OwnerCluster(SiloProcessCluster cluster, string sessionId)
    {
        using var dataSource = Npgsql.NpgsqlDataSource.Create(cluster.ConnectionString);
        using var command = dataSource.CreateCommand("SELECT owner_cluster FROM gateway_sessions WHERE session_id = @id");
        command.Parameters.AddWithValue("id", sessionId);
        return command.ExecuteScalar() as string;
    }
}
