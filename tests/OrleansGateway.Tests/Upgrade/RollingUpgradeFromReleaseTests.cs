using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;
using OrleansGateway.Cli.Demo;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>
/// A rolling upgrade from the latest release of <c>upgrade/releases</c> to this build, with real processes: silos of
/// the release serve turns on a database at the release's schema, the database is migrated under them, and each is
/// replaced in turn by a silo of this build. Old and new silos share one cluster until the last old one leaves.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RollingUpgradeFromReleaseTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Steps = 40;
    private const int Silos = 3;

    // As the rolling-restart test: short drains, so each stop interrupts turns that resume elsewhere.
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Gateway__Resume__DrainTimeout"] = "00:00:02",
        ["Gateway__Resume__InterruptGrace"] = "00:00:02",
        ["Gateway__Resume__StopIntent"] = "Restart",
    };

    [Fact]
    public async Task Silos_of_the_latest_release_replaced_one_by_one_by_this_build_complete_every_turn()
    {
        var watch = Stopwatch.StartNew();
        var release = ReleaseBuild.Latest();
        var programs = await ReleaseBuild.BuildAsync(release.Commit);
        output.WriteLine($"{watch.Elapsed.TotalSeconds,5:0}s release {release.Version} ({release.Commit[..8]}) built: {programs.Silo}");
        AssertReleaseSchemaIsThisBuildsUpTo(release, programs);

        var connectionString = await postgres.CreateDatabaseAsync("upgrade");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        Assert.Equal(release.Schema, (await new SchemaMigrator(dataSource).MigrateAsync(release.Schema)).ToVersion);

        await using var cluster = new SiloProcessCluster(connectionString);
        var silos = new List<SiloProcess>();
        for (var i = 0; i < Silos; i++)
        {
            silos.Add(await cluster.StartSiloAsync($"old-{i}", Settings, programs.Silo));
        }

        output.WriteLine($"{watch.Elapsed.TotalSeconds,5:0}s {Silos} silos of {release.Version} ready");
        var ids = Enumerable.Range(0, 60).Select(i => $"upgrade-{i}").ToList();
        await ClusterSessions.PostAllAsync(ids, i => silos[i % Silos], $"work {Steps}x800");
        await ClusterSessions.WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");

        // The schema moves first, while only the release serves: its silos must keep working on it.
        Assert.Equal(SchemaMigrator.LatestVersion, (await new SchemaMigrator(dataSource).MigrateAsync()).ToVersion);

        // What the README says 0.1 cannot do: a silo of it that starts now (a crash and restart mid-upgrade) refuses.
        var late = cluster.Launch("old-restarting", Settings, siloAssembly: programs.Silo);
        Assert.True(await late.WaitForExitAsync(TimeSpan.FromSeconds(60)), late.ReadLog());
        Assert.Equal(1, late.ExitCode);
        Assert.Contains($"ogw-silo: cannot start: the database schema is at version {SchemaMigrator.LatestVersion}, newer than this build's {release.Schema}", late.ReadLog());

        for (var i = 0; i < Silos; i++)
        {
            silos[i].Terminate();
            Assert.True(await silos[i].WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());
            Assert.Equal(0, silos[i].ExitCode);
            Assert.Matches(@"premarked [1-9]\d* sessions resume_pending \(restart_timeout\)", silos[i].ReadLog());
            silos[i] = await cluster.StartSiloAsync($"new-{i}", Settings);
            output.WriteLine($"{watch.Elapsed.TotalSeconds,5:0}s old-{i} exited, new-{i} ready");
            if (i == 0)
            {
                await AssertOldAndNewCallEachOtherAsync(cluster, oldSilo: silos[1], newSilo: silos[0]);
            }
        }

        var sessions = await ClusterSessions.WaitUntilCompletedAsync(cluster, ids, silos[0], TimeSpan.FromSeconds(150));
        output.WriteLine($"{watch.Elapsed.TotalSeconds,5:0}s every turn completed");
        var explained = await LongTurnsDemo.CountExplainedStartsAsync(new EventHistory(dataSource), ids, CancellationToken.None);
        foreach (var (id, session) in sessions)
        {
            var turn = Assert.Single(session.GetProperty("turns").EnumerateArray());
            Assert.Equal(($"done {Steps} steps", Steps), (turn.GetProperty("reply").GetString(), turn.GetProperty("stepsDone").GetInt32()));
            var executions = turn.GetProperty("executions").GetInt32();
            Assert.InRange(executions, 1, 1 + Silos);
            Assert.True(executions <= explained[id], $"{id} started {executions} times, its history explains {explained[id]}");
        }

        Assert.Contains(sessions.Values, s => s.GetProperty("turns")[0].GetProperty("executions").GetInt32() > 1);
        var rows = await ClusterSessions.ReadLedgerAsync(cluster, ids);
        Assert.All(rows, row => Assert.Equal(SessionPhase.Idle, row.Phase));
        output.WriteLine($"executions: {string.Join(", ", sessions.Values.GroupBy(s => s.GetProperty("turns")[0].GetProperty("executions").GetInt32()).OrderBy(g => g.Key).Select(g => $"{g.Count()}x{g.Key}"))}");
    }

    /// <summary>
    /// The release's migrations are this build's scripts up to its schema, unchanged: migrating with this build's
    /// migrator up to that version gives the database the release built and tested against.
    /// </summary>
    private static void AssertReleaseSchemaIsThisBuildsUpTo(Release release, ReleasePrograms programs)
    {
        var releaseScripts = Directory.GetFiles(Path.Combine(programs.SourceDirectory, "sql"), "*.sql").Order(StringComparer.Ordinal)
            .Select(file => (Path.GetFileName(file), File.ReadAllText(file))).ToList();
        var ours = SchemaMigrator.Scripts.Where(script => script.Version <= release.Schema)
            .Select(script => ($"{script.Version:000}_{script.Name}.sql", script.Sql)).ToList();
        Assert.Equal(releaseScripts, ours);
    }

    /// <summary>
    /// Grain calls in both directions while both versions serve: a session placed on the old silo (its first post went
    /// there) is read through the new one, and a session placed on the new silo gets a message through the old one.
    /// </summary>
    private static async Task AssertOldAndNewCallEachOtherAsync(SiloProcessCluster cluster, SiloProcess oldSilo, SiloProcess newSilo)
    {
        await ClusterSessions.PostAllAsync(["on-old"], _ => oldSilo, "work 1x10");
        await ClusterSessions.PostAllAsync(["on-new"], _ => newSilo, "work 1x10");
        await ClusterSessions.PostAllAsync(["on-new"], _ => oldSilo, "work 1x10", messageId: "m2");

        var onOld = (await ClusterSessions.WaitUntilCompletedAsync(cluster, ["on-old"], newSilo))["on-old"];
        var onNew = (await ClusterSessions.WaitUntilCompletedAsync(cluster, ["on-new"], oldSilo))["on-new"];
        Assert.StartsWith($"127.0.0.1:{oldSilo.Settings.SiloPort}@", OwnerOf(onOld));
        Assert.StartsWith($"127.0.0.1:{newSilo.Settings.SiloPort}@", OwnerOf(onNew));
        Assert.Equal(["m1", "m2"], onNew.GetProperty("turns").EnumerateArray().Select(t => t.GetProperty("messageId").GetString()));

        using var repeat = await SiloProcessCluster.PostMessageAsync(newSilo, "on-old", new { text = "work 1x10", messageId = "m1" });
        Assert.Equal(HttpStatusCode.Accepted, repeat.StatusCode);
    }

    private static string? OwnerOf(JsonElement session) => session.GetProperty("ownerSilo").GetString();
}
