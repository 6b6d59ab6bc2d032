using System.Text.Json;
using OrleansGateway.Agents;
using OrleansGateway.Cli.Demo.Chaos;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using static OrleansGateway.Tests.Infrastructure.ClusterSessions;

namespace OrleansGateway.Tests.Cluster;

/// <summary>
/// A SIGKILL between a turn's end (the ledger statement that also appends it to the transcript) and the state write that
/// forgets it: the state still lists the turn running at its last checkpoint. Nothing in the product knows about the test:
/// the state write is held back by a lock on its row, taken from outside; the scripted agent's step trace counts the steps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TurnEndKillTests(PostgresFixture postgres) : IDisposable
{
    private const string Session = "ending";
    private const string Control = "control";

    private readonly string _trace = Directory.CreateTempSubdirectory("ogw-steps-").FullName;

    [Fact]
    public async Task A_silo_killed_after_a_turns_end_committed_and_before_its_state_write_runs_no_step_again()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("ending"));
        var settings = Settings(("Gateway__Agent__StepTrace", _trace), ("Gateway__Resume__SweepInterval", "00:00:00.500"),
            ("Gateway__Resume__IdleAuditInterval", "00:00:00.500"));
        var killed = await cluster.StartSiloAsync("killed", settings);
        await PostAllAsync([Control], _ => killed, "hello");
        await WaitUntilCompletedAsync(cluster, [Control], killed);
        await PostAllAsync([Session], _ => killed, "work 3x1500");

        // The checkpoint of step 2 is the state's last write before the end: step 3, the last, has none of its own.
        JsonElement? state = null;
        await Eventually.UntilAsync(async () => (state = await SessionStateRows.ReadAsync(cluster.ConnectionString, Session)) is { } read
                && SessionStateRows.Turns(read) is [var turn] && turn.TryGetProperty("StepsDone", out var steps) && steps.GetInt32() == 2,
            TimeSpan.FromSeconds(30), () => $"{state}\n{cluster.Logs()}", pollMilliseconds: 20);
        await using (var locked = await SessionStateRows.LockAsync(cluster.ConnectionString, Session))
        {
            AssertRunningAtStep2(locked.State);
            await locked.WaitForBlockedWriteAsync();
            Assert.Equal([1], await SessionStateRows.TranscriptTurnsAsync(cluster.ConnectionString, Session));
            killed.Kill();
            Assert.True(await killed.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(1, await locked.EndBlockedWritesAsync());
        }

        AssertRunningAtStep2((await SessionStateRows.ReadAsync(cluster.ConnectionString, Session))!.Value);
        var ended = (await ReadLedgerAsync(cluster, [Session]))[0];
        Assert.Equal(SessionPhase.Idle, ended.Phase);

        // The idle audit, as it would run a minute from now (it leaves rows idle for less than 30 s alone), on a state
        // written after its idle row (so that it reads the JSON), and beside a control session with the same state and
        // without a transcript: the one statement that marks the control judges this session too.
        await ExecuteAsync(cluster, $"""
            UPDATE gateway_sessions SET updated_at = now() - interval '1 minute' WHERE session_id IN ('{Session}', '{Control}');
            DELETE FROM gateway_transcript WHERE session_id = '{Control}';
            UPDATE orleansstorage SET modifiedon = now(),
                   payloadbinary = (SELECT payloadbinary FROM orleansstorage WHERE grainidextensionstring = '{Session}')
             WHERE grainidextensionstring = '{Control}';
            """);
        var restarted = await cluster.StartSiloAsync("restarted", settings);
        await WaitForLedgerAsync(cluster, [Control], rows => rows[0].Phase != SessionPhase.Idle, "the control marked idle_with_work");

        // The control's copy of the turn is resumed and runs its step 3 (1.5 s): a few more audits meanwhile.
        var control = (await WaitUntilCompletedAsync(cluster, [Control], restarted))[Control];
        Assert.Equal("done 3 steps", Assert.Single(control.GetProperty("turns").EnumerateArray()).GetProperty("reply").GetString());
        var idle = (await ReadLedgerAsync(cluster, [Session]))[0];
        Assert.Equal((SessionPhase.Idle, ended.Epoch), (idle.Phase, idle.Epoch));
        Assert.Empty((await ResumedBySessionAsync(cluster, [Session]))[Session]);

        var session = (await WaitUntilCompletedAsync(cluster, [Session], restarted))[Session];
        var finished = Assert.Single(session.GetProperty("turns").EnumerateArray());
        Assert.Equal(("t1", "done 3 steps", 3, 1), (finished.GetProperty("turnId").GetString(), finished.GetProperty("reply").GetString(),
            finished.GetProperty("stepsDone").GetInt32(), finished.GetProperty("executions").GetInt32()));

        await PostAllAsync([Session], _ => restarted, "work 1x10", messageId: "m2");
        var next = (await WaitUntilCompletedAsync(cluster, [Session], restarted))[Session];
        Assert.Equal([("t1", "done 3 steps"), ("t2", "done 1 steps")],
            next.GetProperty("turns").EnumerateArray().Select(t => (t.GetProperty("turnId").GetString(), t.GetProperty("reply").GetString())));

        // Every step of t1 started once, in the killed silo: the restarted one ran none of them again.
        var starts = StepTraceCheck.Read(_trace).Where(e => e is { SessionId: Session, TurnId: "t1", Event: StepTraceEvent.Start }).ToList();
        Assert.Equal([0, 1, 2], starts.Select(e => e.Step).Order());
        Assert.All(starts, e => Assert.Equal(killed.ProcessId, e.ProcessId));
    }

    public void Dispose() => Directory.Delete(_trace, recursive: true);

    private static void AssertRunningAtStep2(JsonElement state)
    {
        var turn = Assert.Single(SessionStateRows.Turns(state));
        Assert.Equal(("t1", (int)TurnStatus.Running, 2), (turn.GetProperty("TurnId").GetString(), turn.GetProperty("Status").GetInt32(),
            turn.GetProperty("StepsDone").GetInt32()));
    }
}
