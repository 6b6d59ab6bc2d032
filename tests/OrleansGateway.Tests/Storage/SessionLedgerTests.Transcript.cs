using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Storage;

// The transcript of finished turns, and its part in the ledger's end of a turn.
public sealed partial class SessionLedgerTests
{
    private SessionTranscript Transcript => new(_dataSource);

    private static FinishedTurn Turn(int number, TurnStatus status = TurnStatus.Completed) => new(
        number, $"m-{number}", $"hello {number}", status, StepsDone: 1, StepsTotal: 1, Executions: 1,
        Reply: status == TurnStatus.Completed ? $"hello {number}" : null, Error: status == TurnStatus.Failed ? "step 1 failed: boom" : null,
        AcceptedAt: DateTimeOffset.UtcNow.AddSeconds(-1), FinishedAt: DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_turns_end_records_it_in_the_same_fenced_statement_and_a_fenced_end_records_nothing()
    {
        var epoch = (await _ledger.BeginTurnAsync("ends", null, SiloA, "t1"))!.Value;
        Assert.Null(await _ledger.EndTurnAsync("ends", epoch - 1, MarkerChange.Clear, null, null, finished: Turn(1)));
        Assert.Empty(await Transcript.PageAsync("ends", int.MaxValue, 10));

        var ended = await _ledger.EndTurnAsync("ends", epoch, MarkerChange.Keep, "step 1 failed: boom", "t2", finished: Turn(1, TurnStatus.Failed));

        Assert.NotNull(ended);
        var turn = Assert.Single(await Transcript.PageAsync("ends", int.MaxValue, 10));
        Assert.Equal(new TurnView("t1", "m-1", TurnStatus.Failed, 1, 1, 1, null, "step 1 failed: boom"), turn);
    }

    [Fact]
    public async Task Appends_are_idempotent_and_pages_go_back_newest_first()
    {
        await Transcript.AppendAsync("paged", [.. Enumerable.Range(1, 5).Select(n => Turn(n))]);
        // A move cut short by a crash is made again: the rows it wrote stay as they were.
        await Transcript.AppendAsync("paged", [Turn(4, TurnStatus.Failed), Turn(6)]);
        await Transcript.AppendAsync("other", [Turn(1)]);

        Assert.Equal(["t6", "t5", "t4"], (await Transcript.PageAsync("paged", int.MaxValue, 3)).Select(t => t.TurnId));
        Assert.Equal(["t3", "t2", "t1"], (await Transcript.PageAsync("paged", 4, 3)).Select(t => t.TurnId));
        Assert.Empty(await Transcript.PageAsync("paged", 1, 3));
        Assert.Equal(TurnStatus.Completed, (await Transcript.PageAsync("paged", 5, 1))[0].Status);
        Assert.Equal("t2", await Transcript.FindByMessageIdAsync("paged", "m-2"));
        Assert.Null(await Transcript.FindByMessageIdAsync("paged", "m-7"));
        Assert.Equal([2, 6], (await Transcript.FinishedAmongAsync("paged", [2, 6, 7])).Order());
    }

    [Fact]
    public async Task A_deleted_session_leaves_no_transcript()
    {
        await _ledger.BeginTurnAsync("deleted", null, SiloA, "t1");
        await Transcript.AppendAsync("deleted", [Turn(1), Turn(2)]);
        await Transcript.AppendAsync("kept", [Turn(1)]);

        await _ledger.DeleteAsync("deleted", SiloA, "user");

        Assert.Empty(await Transcript.PageAsync("deleted", int.MaxValue, 10));
        Assert.Single(await Transcript.PageAsync("kept", int.MaxValue, 10));
    }
}
