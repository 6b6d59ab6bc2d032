using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

/// <summary>The transcript of finished turns against a real PostgreSQL, and its part in the ledger's statements.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SessionTranscriptTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Silo = "10.0.0.1:11111@1";
    private NpgsqlDataSource _dataSource = null!;
    private SessionLedger _ledger = null!;
    private SessionTranscript _transcript = null!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync("transcript"));
        _ledger = new SessionLedger(_dataSource);
        _transcript = new SessionTranscript(_dataSource);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    private static FinishedTurn Turn(int number, TurnStatus status = TurnStatus.Completed) => new(
        number, $"m-{number}", $"hello {number}", status, StepsDone: 1, StepsTotal: 1, Executions: 1,
        Reply: status == TurnStatus.Completed ? $"hello {number}" : null, Error: status == TurnStatus.Failed ? "step 1 failed: boom" : null,
        AcceptedAt: DateTimeOffset.UtcNow.AddSeconds(-1), FinishedAt: DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_turns_end_records_it_in_the_same_fenced_statement_and_a_fenced_end_records_nothing()
    {
        var epoch = (await _ledger.BeginTurnAsync("ends", null, Silo, "t1"))!.Value;
        Assert.Null(await _ledger.EndTurnAsync("ends", epoch - 1, MarkerChange.Clear, null, null, finished: Turn(1)));
        Assert.Empty(await _transcript.PageAsync("ends", int.MaxValue, 10));

        var ended = await _ledger.EndTurnAsync("ends", epoch, MarkerChange.Keep, "step 1 failed: boom", "t2", finished: Turn(1, TurnStatus.Failed));

        Assert.NotNull(ended);
        var turn = Assert.Single(await _transcript.PageAsync("ends", int.MaxValue, 10));
        Assert.Equal(new TurnView("t1", "m-1", TurnStatus.Failed, 1, 1, 1, null, "step 1 failed: boom"), turn);
    }

    [Fact]
    public async Task Appends_are_idempotent_and_pages_go_back_newest_first()
    {
        await _transcript.AppendAsync("paged", [.. Enumerable.Range(1, 5).Select(n => Turn(n))]);
        // A move cut short by a crash is made again: the rows it wrote stay as they were.
        await _transcript.AppendAsync("paged", [Turn(4, TurnStatus.Failed), Turn(6)]);
        await _transcript.AppendAsync("other", [Turn(1)]);

        Assert.Equal(["t6", "t5", "t4"], (await _transcript.PageAsync("paged", int.MaxValue, 3)).Select(t => t.TurnId));
        Assert.Equal(["t3", "t2", "t1"], (await _transcript.PageAsync("paged", 4, 3)).Select(t => t.TurnId));
        Assert.Empty(await _transcript.PageAsync("paged", 1, 3));
        Assert.Equal(TurnStatus.Completed, (await _transcript.PageAsync("paged", 5, 1))[0].Status);
        Assert.Equal("t2", await _transcript.FindByMessageIdAsync("paged", "m-2"));
        Assert.Null(await _transcript.FindByMessageIdAsync("paged", "m-7"));
        Assert.Equal([2, 6], (await _transcript.FinishedAmongAsync("paged", [2, 6, 7])).Order());
    }

    [Fact]
    public async Task A_deleted_session_leaves_no_transcript()
    {
        await _ledger.BeginTurnAsync("deleted", null, Silo, "t1");
        await _transcript.AppendAsync("deleted", [Turn(1), Turn(2)]);
        await _transcript.AppendAsync("kept", [Turn(1)]);

        await _ledger.DeleteAsync("deleted", Silo, "user");

        Assert.Empty(await _transcript.PageAsync("deleted", int.MaxValue, 10));
        Assert.Single(await _transcript.PageAsync("kept", int.MaxValue, 10));
    }
}
