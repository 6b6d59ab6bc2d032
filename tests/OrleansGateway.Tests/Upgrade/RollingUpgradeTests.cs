using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using static OrleansGateway.Tests.Infrastructure.ClusterSessions;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>
/// Upgrades of this build to itself under another <c>Gateway:Version</c>, with real silo processes: what the version
/// preference and the quarantine rule promise between two releases that both have them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RollingUpgradeTests(PostgresFixture postgres)
{
    private static readonly (string, string)[] QuickStops =
        [("Gateway__Resume__DrainTimeout", "00:00:02"), ("Gateway__Resume__InterruptGrace", "00:00:02"), ("Gateway__Resume__StopIntent", "Restart")];

    [Fact]
    public async Task A_rolling_upgrade_to_a_newer_version_interrupts_each_session_at_most_once()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("upgrade"));
        var old = Settings([.. QuickStops, ("Gateway__Version", "1.0.0"), ("Gateway__Resume__MaxAttempts", "1")]);
        var upgraded = Settings([.. QuickStops, ("Gateway__Version", "1.0.1"), ("Gateway__Resume__MaxAttempts", "1")]);
        var silos = new List<SiloProcess>();
        for (var i = 0; i < 3; i++)
        {
            silos.Add(await cluster.StartSiloAsync($"old-{i}", old));
        }

        // Turns that outlast the whole upgrade, so that every old silo stops with turns running.
        var ids = Enumerable.Range(0, 60).Select(i => $"upgrade-{i}").ToList();
        await PostAllAsync(ids, i => silos[i % 3], "work 30x2000");
        await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");

        // As Kubernetes rolls a Deployment with maxSurge 1 and maxUnavailable 0: the new pod is ready before an old one stops.
        var newer = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var next = await cluster.StartSiloAsync($"new-{i}", upgraded);
            newer.Add(await AddressOfAsync(cluster, next));
            silos[i].Terminate();
            Assert.True(await silos[i].WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());
            Assert.Matches(@"premarked [1-9]\d* sessions resume_pending", silos[i].ReadLog());
            silos[i] = next;
        }

        var sessions = await WaitUntilCompletedAsync(cluster, ids, silos[0], TimeSpan.FromSeconds(180));
        Assert.All(sessions, s => Assert.True(Executions(s.Value) <= 2, $"{s.Key} was interrupted {Executions(s.Value) - 1} times: {s.Value}"));
        Assert.Contains(sessions.Values, s => Executions(s) == 2);
        var claims = await ResumedBySessionAsync(cluster, ids);
        Assert.All(claims.SelectMany(c => c), silo => Assert.Contains(silo, newer));
    }

    [Fact]
    public async Task Back_to_back_restarts_with_steps_longer_than_the_drain_quarantine_nothing()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("backtoback"));
        var settings = Settings([.. QuickStops, ("Gateway__Resume__MaxAttempts", "1")]);
        var first = await cluster.StartSiloAsync("first", settings);
        var second = await cluster.StartSiloAsync("second", settings);
        var ids = Enumerable.Range(0, 10).Select(i => $"long-step-{i}").ToList();
        await PostAllAsync(ids, _ => first, "work 1x30000");
        await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");

        // Restart the first silo: its sessions resume on the second, which is restarted before their one step can end.
        first.Terminate();
        Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());
        var secondAddress = await AddressOfAsync(cluster, second);
        await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running && r.OwnerSilo == secondAddress), "all resumed on the second");
        var third = await cluster.StartSiloAsync("third", settings);
        second.Terminate();
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());

        var sessions = await WaitUntilCompletedAsync(cluster, ids, third);
        Assert.All(sessions.Values, s => Assert.Equal(3, Executions(s)));
        Assert.All(await ReadLedgerAsync(cluster, ids), row => Assert.Equal((SessionPhase.Idle, 0), (row.Phase, row.ResumeAttempts)));
        Assert.Equal(0, cluster.CountLogLines("quarantined"));
    }

    [Fact]
    public async Task A_rollback_to_the_lower_version_after_an_expanding_migration_takes_over_its_sessions()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("rollback");
        await using var cluster = new SiloProcessCluster(connectionString);
        var higher = await cluster.StartSiloAsync("higher", Settings([.. QuickStops, ("Gateway__Version", "1.1.0")]));
        var ids = Enumerable.Range(0, 20).Select(i => $"rollback-{i}").ToList();
        await PostAllAsync(ids, _ => higher, "work 20x500");
        await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");

        // The higher release expanded the schema; the lower one (this build's schema) still starts on it.
        await ExecuteAsync(cluster, $"""
            ALTER TABLE gateway_sessions ADD COLUMN next_release_field text;
            INSERT INTO gateway_schema_version (version, name, compatible_from) VALUES ({SchemaMigrator.LatestVersion + 1}, 'next_release', {SchemaMigrator.LatestVersion});
            """);
        var lower = await cluster.StartSiloAsync("lower", Settings([.. QuickStops, ("Gateway__Version", "1.0.0")]));
        higher.Terminate();
        Assert.True(await higher.WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());

        var sessions = await WaitUntilCompletedAsync(cluster, ids, lower);
        Assert.All(sessions.Values, s => Assert.Equal(2, Executions(s)));
        var lowerAddress = await AddressOfAsync(cluster, lower);
        Assert.All(await ReadLedgerAsync(cluster, ids), row => Assert.Equal(lowerAddress, row.OwnerSilo));
    }

    /// <summary>The silo's address as the ledger records owners, from its registration.</summary>
    private static async Task<string> AddressOfAsync(SiloProcessCluster cluster, SiloProcess silo)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT address FROM gateway_silos WHERE silo_name = @name ORDER BY started_at DESC LIMIT 1");
        command.Parameters.AddWithValue("name", silo.Settings.Name);
        return await command.ExecuteScalarAsync() as string ?? throw new InvalidOperationException($"{silo.Settings.Name} did not register");
    }
}
