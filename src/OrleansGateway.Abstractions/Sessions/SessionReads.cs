using Orleans.Runtime;

namespace OrleansGateway.Sessions;

/// <summary>
/// Reads a session a page at a time from any activation. One of release 0.1 has neither <see cref="ISessionGrain.GetNewestAsync"/>
/// nor <see cref="ISessionGrain.GetTurnPageAsync"/> (the call fails with an exception from its silo): its whole view is
/// read instead and paged here, with the answers the grain gives.
/// </summary>
public static class SessionReads
{
    extension(ISessionGrain session)
    {
        /// <summary><see cref="ISessionGrain.GetNewestAsync"/>, or the newest turns of the whole view from a 0.1 activation.</summary>
        public async Task<SessionView?> ReadNewestAsync(int turns)
        {
            try
            {
                return await session.GetNewestAsync(turns);
            }
            catch (Exception exception) when (MayBeOldRelease(exception))
            {
                return (await session.GetAsync())?.WithNewest(turns);
            }
        }

        /// <summary><see cref="ISessionGrain.GetTurnPageAsync"/>, or the same page of the whole view from a 0.1 activation.</summary>
        public async Task<TurnPage?> ReadTurnPageAsync(string? beforeTurnId, int limit)
        {
            try
            {
                return await session.GetTurnPageAsync(beforeTurnId, limit);
            }
            catch (Exception exception) when (MayBeOldRelease(exception))
            {
                return await session.GetAsync() is { } view ? TurnPage.Of(view.Turns, beforeTurnId, limit) : null;
            }
        }
    }

    extension(SessionView view)
    {
        /// <summary>The view with its newest <paramref name="turns"/> turns, from one that holds every turn.</summary>
        public SessionView WithNewest(int turns)
        {
            var page = TurnPage.Of(view.Turns, beforeTurnId: null, turns);
            return view with { Turns = [.. page.Turns.Reverse()], TurnCount = page.TurnCount, TurnsBefore = page.Before };
        }
    }

    extension(TurnPage)
    {
        /// <summary>A page of <paramref name="turns"/> (every turn of a session, oldest first), as the grain pages its own.</summary>
        public static TurnPage Of(IReadOnlyList<TurnView> turns, string? beforeTurnId, int limit)
        {
            var before = beforeTurnId is null ? int.MaxValue : TurnIds.Parse(beforeTurnId);
            var older = turns.Where(turn => TurnIds.Parse(turn.TurnId) < before).ToList();
            var page = Enumerable.Reverse(older.TakeLast(Math.Max(limit, 0)).ToList()).ToList();
            // The cursor is the oldest turn given; with none given, the one right after the newest older turn.
            var cursor = page.Count == older.Count ? null
                : page.Count > 0 ? page[^1].TurnId
                : TurnIds.Format(TurnIds.Parse(older[^1].TurnId) + 1);
            return new TurnPage(page, turns.Count, cursor);
        }
    }

    // A timeout, a cancellation or a silo gone say nothing about the release: the whole view would not come either.
    private static bool MayBeOldRelease(Exception exception) =>
        exception is not (TimeoutException or OperationCanceledException or SiloUnavailableException);
}
