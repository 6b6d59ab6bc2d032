using OrleansGateway.Resume;

namespace OrleansGateway.Tests.Resume;

/// <summary>The interruption after a drain timeout reaches every turn still running, whatever ends meanwhile.</summary>
public sealed class RunningTurnsTests
{
    [Fact]
    public void A_turn_that_ended_after_the_list_was_taken_does_not_keep_the_others_from_being_interrupted()
    {
        var turns = new RunningTurns(TimeProvider.System);
        using var running1 = new CancellationTokenSource();
        using var running2 = new CancellationTokenSource();
        var ended = new CancellationTokenSource();
        turns.Track("running-1", running1);
        turns.Track("ended", ended);
        turns.Track("running-2", running2);
        ended.Dispose();

        Assert.Equal(2, turns.InterruptAll());
        Assert.True(running1.IsCancellationRequested && running2.IsCancellationRequested);
    }

    [Fact]
    public void Turns_that_end_while_the_first_one_is_interrupted_are_skipped_not_fatal()
    {
        // Whichever turn is asked first ends the others as it stops (their sources disposed), before they are asked.
        var turns = new RunningTurns(TimeProvider.System);
        var sources = Enumerable.Range(0, 3).Select(_ => new CancellationTokenSource()).ToList();
        foreach (var (source, index) in sources.Select((source, index) => (source, index)))
        {
            source.Token.Register(() => sources.Where(other => other != source && !other.IsCancellationRequested).ToList().ForEach(other => other.Dispose()));
            turns.Track($"turn-{index}", source);
        }

        Assert.Equal(1, turns.InterruptAll());
        Assert.Single(sources, source => source.IsCancellationRequested);
    }

    [Fact]
    public async Task The_drain_waits_its_timeout_on_a_monotonic_clock_whatever_the_wall_clock_does()
    {
        // The wall clock jumps an hour ahead at every look; the turn ends after 200 ms, well within the 10 s timeout.
        var turns = new RunningTurns(new JumpingWallClock());
        using var interrupt = new CancellationTokenSource();
        var turn = turns.Track("running", interrupt);
        _ = Task.Delay(TimeSpan.FromMilliseconds(200)).ContinueWith(_ => turn.Dispose(), TaskScheduler.Default);

        Assert.True(await turns.WaitUntilNoneAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
    }

    private sealed class JumpingWallClock : TimeProvider
    {
        private long _jumps;

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromHours(Interlocked.Increment(ref _jumps));
    }
}
