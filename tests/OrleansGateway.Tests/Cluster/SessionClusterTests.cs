using Npgsql;
using Orleans.TestingHost;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cluster;

/// <summary>Sessions on a 3-silo in-process cluster with real PostgreSQL clustering and storage.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SessionClusterTests(PostgresFixture postgres) : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("cluster");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _cluster = await GatewayTestCluster.StartAsync(connectionString);
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Fact]
    public async Task A_page_of_turns_is_read_without_the_ledger()
    {
        var session = _cluster.Client.GetGrain<ISessionGrain>("turns-only");
        await session.PostMessageAsync(new SessionMessage("m1", "hello"));
        await Eventually.UntilAsync(async () => (await session.GetTurnPageAsync(null, 20))?.Turns is [{ Status: TurnStatus.Completed }], TimeSpan.FromSeconds(30),
            () => "the turn did not complete");

        // The dashboard holds the ledger row already when it asks for the turns: that call must not wait on the ledger.
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE gateway_sessions IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var turns = (await session.GetTurnPageAsync(null, 20).WaitAsync(TimeSpan.FromSeconds(10)))!.Turns;
        Assert.Equal(("t1", "hello"), (turns[0].TurnId, turns[0].Reply));
        var whole = session.GetAsync();
        Assert.False(await Task.WhenAny(whole, Task.Delay(TimeSpan.FromSeconds(1))) == whole, "the whole view did not read the ledger, so this proves nothing");
        await transaction.RollbackAsync();
        await whole;
    }

    [Fact]
    public async Task A_hundred_sessions_over_three_silos_all_complete_with_the_right_reply()
    {
        var sessions = Enumerable.Range(0, 100).Select(i => (Id: $"hundred-{i}", Text: i % 4 == 0 ? $"hello {i}" : $"work {1 + i % 3}x20")).ToList();

        var accepted = await Task.WhenAll(sessions.Select(s =>
            _cluster.Client.GetGrain<ISessionGrain>(s.Id).PostMessageAsync(new SessionMessage($"m-{s.Id}", s.Text))));
        Assert.All(accepted, a => Assert.Equal("t1", a.TurnId));

        var views = new Dictionary<string, SessionView?>();
        await Eventually.UntilAsync(async () =>
            {
                foreach (var s in sessions)
                {
                    views[s.Id] = await _cluster.Client.GetGrain<ISessionGrain>(s.Id).GetAsync();
                }

                return views.Values.All(v => v is { Phase: SessionPhase.Idle } && v.Turns.All(t => t.Status == TurnStatus.Completed));
            },
            TimeSpan.FromSeconds(60),
            () => $"{views.Values.Count(v => v?.Phase == SessionPhase.Idle)} of 100 idle; first not done: {views.Values.FirstOrDefault(v => v?.Phase != SessionPhase.Idle)}");

        foreach (var (id, text) in sessions)
        {
            var turn = Assert.Single(views[id]!.Turns);
            var expected = text.StartsWith("work", StringComparison.Ordinal) ? $"done {text[5] - '0'} steps" : text;
            Assert.Equal(expected, turn.Reply);
            Assert.Equal(1, turn.Executions);
            Assert.Equal(turn.StepsTotal, turn.StepsDone);
        }

        // The sessions really were spread over the cluster, each recorded under the silo that ran it.
        var owners = views.Values.Select(v => v!.OwnerSilo).Distinct().ToList();
        var silos = _cluster.Silos.Select(s => s.SiloAddress.ToParsableString()).ToHashSet();
        Assert.All(owners, owner => Assert.Contains(owner!, silos));
        Assert.True(owners.Count >= 2, $"all 100 sessions ran on {string.Join(", ", owners)}");
    }

    [Fact]
    public async Task A_repeated_message_id_is_the_same_message_and_starts_no_second_turn()
    {
        var session = _cluster.Client.GetGrain<ISessionGrain>("repeat");

        var first = await session.PostMessageAsync(new SessionMessage("same-id", "work 2x50"));
        var again = await session.PostMessageAsync(new SessionMessage("same-id", "work 2x50"));
        var differentText = await session.PostMessageAsync(new SessionMessage("same-id", "something else"));

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.TurnId, again.TurnId);
        Assert.Equal(first.TurnId, differentText.TurnId);
        var view = await WaitUntilIdleAsync("repeat");
        var turn = Assert.Single(view.Turns);
        Assert.Equal((TurnStatus.Completed, 1, "done 2 steps"), (turn.Status, turn.Executions, turn.Reply));
    }

    [Fact]
    public async Task Finished_turns_leave_the_grain_state_and_are_read_back_a_page_at_a_time()
    {
        var session = _cluster.Client.GetGrain<ISessionGrain>("long");
        for (var i = 1; i <= 45; i++)
        {
            // Some queued behind a running one, so that a turn's end also starts the next.
            await session.PostMessageAsync(new SessionMessage($"m{i}", i % 5 == 0 ? "work 2x20" : $"hello {i}"));
        }

        await WaitUntilIdleAsync("long");

        // The state is the inbox only: no turn of the 45, however many the session has had.
        await using (var read = _dataSource.CreateCommand(
            "SELECT convert_from(payloadbinary, 'UTF8') FROM orleansstorage WHERE grainidextensionstring = 'long'"))
        {
            var json = (string)(await read.ExecuteScalarAsync())!;
            Assert.Contains("\"$values\":[]", json);
            Assert.Contains("\"LastTurnNumber\":45", json);
        }

        var newest = (await session.GetNewestAsync(20))!;
        Assert.Equal((45, "t26"), (newest.TurnCount, newest.TurnsBefore));
        Assert.Equal(Enumerable.Range(26, 20).Select(TurnIds.Format), newest.Turns.Select(t => t.TurnId));

        var pages = new List<TurnView>();
        for (string? before = null; ;)
        {
            var page = (await session.GetTurnPageAsync(before, 20))!;
            pages.AddRange(page.Turns);
            if ((before = page.Before) is null)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(1, 45).Reverse().Select(TurnIds.Format), pages.Select(t => t.TurnId));
        Assert.All(pages, t => Assert.Equal((TurnStatus.Completed, 1), (t.Status, t.Executions)));
        Assert.Equal("hello 1", pages[^1].Reply);

        // A message id of a turn long finished is still that message.
        var again = await session.PostMessageAsync(new SessionMessage("m3", "hello 3"));
        Assert.Equal((true, "t3"), (again.Duplicate, again.TurnId));
        Assert.Equal(45, (await session.GetNewestAsync(0))!.TurnCount);
    }

    [Fact]
    public async Task Messages_of_one_session_run_one_at_a_time_in_arrival_order()
    {
        var session = _cluster.Client.GetGrain<ISessionGrain>("fifo");

        var turns = new List<string>();
        foreach (var text in new[] { "work 3x30", "second", "work 1x10" })
        {
            turns.Add((await session.PostMessageAsync(new SessionMessage($"fifo-{turns.Count}", text))).TurnId);
        }

        Assert.Equal(["t1", "t2", "t3"], turns);
        var view = await WaitUntilIdleAsync("fifo");
        Assert.Equal(["done 3 steps", "second", "done 1 steps"], view.Turns.Select(t => t.Reply));
        Assert.All(view.Turns, t => Assert.Equal(1, t.Executions));

        var row = await new SessionQueries(_dataSource).GetAsync("fifo");
        Assert.NotNull(row);
        Assert.Equal(SessionPhase.Idle, row.Phase);
        Assert.Null(row.ActiveTurnId);
    }

    [Fact]
    public async Task A_running_turn_is_recorded_in_the_ledger_before_its_message_is_acknowledged()
    {
        var accepted = await _cluster.Client.GetGrain<ISessionGrain>("write-ahead").PostMessageAsync(new SessionMessage("m1", "work 1x2000"));

        var row = await new SessionQueries(_dataSource).GetAsync("write-ahead");

        Assert.NotNull(row);
        Assert.Equal((SessionPhase.Running, accepted.TurnId), (row.Phase, row.ActiveTurnId));
        Assert.Contains(row.OwnerSilo!, _cluster.Silos.Select(s => s.SiloAddress.ToParsableString()));
    }

    [Fact]
    public async Task An_unknown_session_is_null_and_leaves_no_trace()
    {
        Assert.Null(await _cluster.Client.GetGrain<ISessionGrain>("never-written").GetAsync());
        Assert.Null(await new SessionQueries(_dataSource).GetAsync("never-written"));
    }

    private async Task<SessionView> WaitUntilIdleAsync(string sessionId)
    {
        SessionView? view = null;
        await Eventually.UntilAsync(async () =>
            {
                view = await _cluster.Client.GetGrain<ISessionGrain>(sessionId).GetAsync();
                return view is { Phase: SessionPhase.Idle } && view.Turns.All(t => t.Status == TurnStatus.Completed);
            },
            TimeSpan.FromSeconds(30),
            () => $"{sessionId}: {view}");
        return view!;
    }
}
