using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using static OrleansGateway.Tests.Infrastructure.ClusterSessions;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>
/// The lazy move of a session of release 0.1, whose state holds every finished turn, into the transcript, cut by a SIGKILL
/// between its two writes: the transcript rows committed, the state still listing every turn. Nothing in the product
/// knows about the test: the state write is held back by a lock on its row, taken from outside.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TranscriptMoveKillTests(PostgresFixture postgres)
{
    private const int Turns = 120;
    private const string Session = "moving";

    [Fact]
    public async Task A_silo_killed_after_the_transcript_took_a_release_sessions_turns_loses_and_doubles_none()
    {
        var release = ReleaseBuild.Latest();
        var programs = await ReleaseBuild.BuildAsync(release.Commit);
        var connectionString = await postgres.CreateDatabaseAsync("move");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new SchemaMigrator(dataSource).MigrateAsync(release.Schema);
        await using var cluster = new SiloProcessCluster(connectionString);

        // The release keeps every turn in the grain state.
        var old = await cluster.StartSiloAsync("old", siloAssembly: programs.Silo);
        for (var n = 1; n <= Turns; n++)
        {
            using var response = await SiloProcessCluster.PostMessageAsync(old, Session, new { text = $"hello {n}", messageId = $"m{n}" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal(Turns, (await WaitUntilCompletedAsync(cluster, [Session], old))[Session].GetProperty("turns").GetArrayLength());
        old.Terminate();
        Assert.True(await old.WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());
        Assert.Equal(0, old.ExitCode);
        Assert.Equal(SchemaMigrator.LatestVersion, (await new SchemaMigrator(dataSource).MigrateAsync()).ToVersion);

        // The activation moves the turns to the transcript, then its write of the state without them waits for the lock.
        SiloProcess killed;
        await using (var locked = await SessionStateRows.LockAsync(connectionString, Session))
        {
            Assert.Equal(Turns, SessionStateRows.Turns(locked.State).Count);
            killed = await cluster.StartSiloAsync("killed");
            var activating = SiloProcessCluster.GetSessionAsync(killed, Session);
            await locked.WaitForBlockedWriteAsync();
            Assert.Equal(Enumerable.Range(1, Turns), await SessionStateRows.TranscriptTurnsAsync(connectionString, Session));
            killed.Kill();
            Assert.True(await killed.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(1, await locked.EndBlockedWritesAsync());
            Assert.Null(await activating);
        }

        Assert.Equal(Turns, SessionStateRows.Turns((await SessionStateRows.ReadAsync(connectionString, Session))!.Value).Count);

        var restarted = await cluster.StartSiloAsync("restarted");
        var session = (await WaitUntilCompletedAsync(cluster, [Session], restarted))[Session];
        AssertTurns(session, Turns);
        Assert.Equal(Enumerable.Range(1, Turns), await SessionStateRows.TranscriptTurnsAsync(connectionString, Session));
        var state = (await SessionStateRows.ReadAsync(connectionString, Session))!.Value;
        Assert.Empty(SessionStateRows.Turns(state));
        Assert.Equal(Turns, state.GetProperty("LastTurnNumber").GetInt32());

        // A message id of a moved turn is known still: its turn answers, nothing starts.
        using (var repeated = await SiloProcessCluster.PostMessageAsync(restarted, Session, new { text = "hello 5", messageId = "m5" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, repeated.StatusCode);
            var accepted = await repeated.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("t5", accepted.GetProperty("turnId").GetString());

            // A duplicate is answered with its turn only: no phase, which a message just stored has.
            Assert.False(accepted.TryGetProperty("phase", out var phase) && phase.ValueKind != JsonValueKind.Null, accepted.ToString());
        }

        Assert.Empty(SessionStateRows.Turns((await SessionStateRows.ReadAsync(connectionString, Session))!.Value));

        Assert.Equal(SessionPhase.Idle, (await ReadLedgerAsync(cluster, [Session]))[0].Phase);
        Assert.Equal(Turns, (await SiloProcessCluster.GetSessionAsync(restarted, Session))!.Value.GetProperty("turns").GetArrayLength());

        using (var next = await SiloProcessCluster.PostMessageAsync(restarted, Session, new { text = $"hello {Turns + 1}", messageId = $"m{Turns + 1}" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
            Assert.Equal($"t{Turns + 1}", (await next.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("turnId").GetString());
        }

        var after = (await WaitUntilCompletedAsync(cluster, [Session], restarted))[Session];
        AssertTurns(after, Turns + 1);
        Assert.Equal(Enumerable.Range(1, Turns + 1), await SessionStateRows.TranscriptTurnsAsync(connectionString, Session));
    }

    /// <summary>Turns t1..t<paramref name="count"/>, each once and in order, each the echo of its message.</summary>
    private static void AssertTurns(JsonElement session, int count)
    {
        var turns = session.GetProperty("turns").EnumerateArray()
            .Select(t => (t.GetProperty("turnId").GetString(), t.GetProperty("messageId").GetString(), t.GetProperty("status").GetString(), t.GetProperty("reply").GetString()));
        Assert.Equal(Enumerable.Range(1, count).Select(n => ((string?)$"t{n}", (string?)$"m{n}", (string?)"completed", (string?)$"hello {n}")), turns);
    }
}
