using System.Reflection;
using OrleansGateway.Sessions;

namespace OrleansGateway.Tests.Sessions;

/// <summary>
/// The fallback for a session still activated on a silo of release 0.1, which has no GetNewest or GetTurnPage: its whole
/// view, paged in memory with the answers the grain gives.
/// </summary>
public sealed class SessionReadsTests
{
    private static readonly List<TurnView> FortyFive = [.. Enumerable.Range(1, 45).Select(n => new TurnView(TurnIds.Format(n), $"m{n}", TurnStatus.Completed, 1, 1, 1, $"r{n}"))];

    [Fact]
    public void Pages_go_back_newest_first_through_the_cursor_and_give_every_turn_once()
    {
        var seen = new List<string>();
        string? before = null;
        do
        {
            var page = TurnPage.Of(FortyFive, before, 7);
            Assert.Equal(45, page.TurnCount);
            seen.AddRange(page.Turns.Select(turn => turn.TurnId));
            before = page.Before;
        }
        while (before is not null);

        Assert.Equal(Enumerable.Range(1, 45).Reverse().Select(TurnIds.Format), seen);
    }

    [Fact]
    public void No_turns_asked_gives_a_cursor_of_them_all_and_every_turn_none()
    {
        var none = TurnPage.Of(FortyFive, beforeTurnId: null, 0);
        var all = TurnPage.Of(FortyFive, beforeTurnId: null, 500);

        Assert.Empty(none.Turns);
        Assert.Equal("t46", none.Before);
        Assert.Equal((45, null), (all.Turns.Count, all.Before));
        Assert.Equal(45, TurnPage.Of(FortyFive, none.Before, 500).Turns.Count);
    }

    [Fact]
    public async Task A_0_1_activation_is_read_whole_and_paged()
    {
        var session = OldRelease.Create(FortyFive);

        var newest = (await session.ReadNewestAsync(20))!;
        var page = (await session.ReadTurnPageAsync("t26", 5))!;

        Assert.Equal(Enumerable.Range(26, 20).Select(TurnIds.Format), newest.Turns.Select(turn => turn.TurnId));
        Assert.Equal((45, "t26"), (newest.AllTurns, newest.TurnsBefore));
        Assert.Equal(["t25", "t24", "t23", "t22", "t21"], page.Turns.Select(turn => turn.TurnId));
        Assert.Equal("t21", page.Before);
    }

    /// <summary>A session grain as release 0.1 answers it: its whole view, and an exception for the calls it does not know.</summary>
    public class OldRelease : DispatchProxy
    {
        private IReadOnlyList<TurnView> _turns = [];

        public static ISessionGrain Create(IReadOnlyList<TurnView> turns)
        {
            var session = DispatchProxy.Create<ISessionGrain, OldRelease>();
            ((OldRelease)(object)session)._turns = turns;
            return session;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(ISessionGrain.GetAsync) => Task.FromResult<SessionView?>(new SessionView("old", SessionPhase.Idle, null, 0, null, _turns)),
            // What a silo of 0.1 sends back for a method its grain does not have: a failed call.
            nameof(ISessionGrain.GetNewestAsync) => Task.FromException<SessionView?>(Unknown(targetMethod!)),
            nameof(ISessionGrain.GetTurnPageAsync) => Task.FromException<TurnPage?>(Unknown(targetMethod!)),
            _ => throw Unknown(targetMethod!),
        };

        private static NotImplementedException Unknown(MethodInfo method) => new($"{method.Name} is not a method of release 0.1's grain");
    }
}
