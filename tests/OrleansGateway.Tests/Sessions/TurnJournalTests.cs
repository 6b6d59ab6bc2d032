using Npgsql;
using Orleans.TestingHost;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Sessions;

/// <summary>
/// The journal of a turn's steps on an in-process cluster: what each step recorded is written with its checkpoint and
/// handed to every later step, a resumed turn goes on from it, and the stream's events tell of it in order.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TurnJournalTests(PostgresFixture postgres) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private TestCluster _cluster = null!;
    private NpgsqlDataSource _dataSource = null!;
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _connectionString = await postgres.CreateMigratedDatabaseAsync("journal");
        _dataSource = NpgsqlDataSource.Create(_connectionString);
        _cluster = await GatewayTestCluster.StartAsync(_connectionString, silos: 1,
            new Dictionary<string, string?> { [GatewayTestCluster.JournalStepsKey] = "true" });
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Fact]
    public async Task Each_step_record_is_journaled_and_handed_to_every_later_step()
    {
        await using var live = await LiveDeltas.ListenAsync(_connectionString, "journal-4");
        var session = _cluster.Client.GetGrain<ISessionGrain>("journal-4");
        await session.PostMessageAsync(new SessionMessage("m1", "journal 4x0"));
        var turn = await CompletedTurnAsync(session);
        await live.WaitForDeltaAsync("journal-4", Timeout);

        Assert.Equal(("journal [0,1,2]", new TokenUsage(31, 16)), (turn.Reply, turn.Usage));
        var asked = JournalingAgent.Asked.Where(step => step.SessionId == "journal-4").ToList();
        Assert.Equal([0, 1, 2, 3], asked.Select(step => step.Index));
        Assert.All(asked, step => Assert.Equal(Enumerable.Range(0, step.Index), step.Journal.Select(entry => entry.Step)));

        var journal = await new TurnJournal(_dataSource).ReadAsync("journal-4", 1);
        Assert.Equal([0, 1, 2], journal.Select(entry => entry.Step));
        Assert.All(journal, entry => Assert.Equal(("tool", new TokenUsage(10, 5)), (entry.Kind, entry.Usage)));

        var events = await new TurnEvents(_dataSource).ReadAfterAsync("journal-4", 0, 100);
        Assert.Equal([TurnEventKinds.Accepted, TurnEventKinds.ToolResult, TurnEventKinds.ToolResult, TurnEventKinds.ToolResult, TurnEventKinds.Completed],
            events.Select(e => e.Kind));
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.All(events, e => Assert.Equal(1, e.TurnNumber));
        Assert.Contains("\"reply\": \"journal [0,1,2]\"", events[^1].Data);

        // Live, in order per step: each step's start, then the text it streamed.
        var stepsLive = live.Events.Where(e => e["sessionId"]!.GetValue<string>() == "journal-4")
            .Select(e => $"{e["kind"]} {e["step"]} {e["text"]}".Trim()).ToList();
        Assert.Equal(["step_started 0", "delta 0 step 0", "step_started 1", "delta 1 step 1", "step_started 2", "delta 2 step 2",
            "step_started 3", "delta 3 step 3"], stepsLive);
    }

    [Fact]
    public async Task A_resumed_turn_goes_on_from_its_journal_even_when_the_state_fell_behind_it()
    {
        var session = _cluster.Client.GetGrain<ISessionGrain>("journal-resume");
        await session.PostMessageAsync(new SessionMessage("m1", "journal 6x300"));
        await Eventually.UntilAsync(async () => (await new TurnJournal(_dataSource).ReadAsync("journal-resume", 1)).Count >= 2, Timeout,
            () => "two steps were not journaled");

        await session.SuspendAsync();
        var held = (await session.GetAsync())!.Turns[0];
        Assert.Equal(TurnStatus.Interrupted, held.Status);

        // The crash window between a step's journal entry and the state's count of it: the journal is a step ahead.
        await using (var ahead = _dataSource.CreateCommand("""
            INSERT INTO gateway_turn_journal (session_id, turn_number, step, kind, data) VALUES ('journal-resume', 1, @step, 'tool', '{}')
            """))
        {
            ahead.Parameters.AddWithValue("step", held.StepsDone);
            await ahead.ExecuteNonQueryAsync();
        }

        await session.LiftSuspensionAsync();
        var turn = await CompletedTurnAsync(session);

        Assert.Equal("journal [0,1,2,3,4]", turn.Reply);
        var asked = JournalingAgent.Asked.Where(step => step.SessionId == "journal-resume").ToList();
        var resumed = asked.First(step => step.Resume is not null);
        Assert.Equal(held.StepsDone + 1, resumed.Index);
        Assert.Equal(Enumerable.Range(0, resumed.Index), resumed.Journal.Select(entry => entry.Step));
        Assert.DoesNotContain(asked, step => step.Resume is not null && step.Index <= held.StepsDone);

        var kinds = (await new TurnEvents(_dataSource).ReadAfterAsync("journal-resume", 0, 100)).Select(e => e.Kind).ToList();
        Assert.Equal([TurnEventKinds.Accepted, TurnEventKinds.Interrupted, TurnEventKinds.Resumed, TurnEventKinds.Completed],
            kinds.Where(kind => kind != TurnEventKinds.ToolResult));
    }

    private static async Task<TurnView> CompletedTurnAsync(ISessionGrain session)
    {
        TurnView? turn = null;
        await Eventually.UntilAsync(async () =>
            {
                turn = (await session.GetAsync())?.Turns.LastOrDefault();
                return turn?.Status is TurnStatus.Completed or TurnStatus.Failed;
            }, Timeout, () => $"the turn did not finish: {turn}");
        return turn!;
    }
}
