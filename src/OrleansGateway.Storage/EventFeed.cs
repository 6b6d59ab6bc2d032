namespace OrleansGateway.Storage;

/// <summary>One entry of the operators' history; <paramref name="Waited"/> is a resume's lag (marker to claim).</summary>
public sealed record GatewayEvent(long Id, DateTimeOffset At, string Kind, string? SessionId, string? Silo, string? Actor, string Detail,
    TimeSpan? Waited = null);

/// <summary>
/// Where a follower of the feed stands: the writing transaction and id of the last event it took, or the horizon it
/// read up to. Written <c>tx-id</c> in the API. See <c>sql/014_event_feed_order.sql</c> for why not the id alone.
/// </summary>
public readonly record struct EventCursor(ulong Transaction, long Id) : IComparable<EventCursor>
{
    public static EventCursor Start => default;

    public int CompareTo(EventCursor other) => (Transaction, Id).CompareTo((other.Transaction, other.Id));

    public override string ToString() => $"{Transaction}-{Id}";

    public static bool TryParse(string? text, out EventCursor cursor)
    {
        cursor = default;
        var dash = text?.IndexOf('-') ?? -1;
        if (dash <= 0 || !ulong.TryParse(text.AsSpan(0, dash), System.Globalization.NumberStyles.None, null, out var transaction)
            || !long.TryParse(text.AsSpan(dash + 1), System.Globalization.NumberStyles.None, null, out var id))
        {
            return false;
        }

        cursor = new EventCursor(transaction, id);
        return true;
    }
}

/// <summary>Events of the feed in order, and the cursor to read on from.</summary>
public sealed record EventFeedPage(IReadOnlyList<GatewayEvent> Events, EventCursor Next);

/// <summary>What one prune did: <see cref="Skipped"/> when another pruner held the lock and this one deleted nothing.</summary>
public sealed record EventPruneResult(bool Skipped, int Deleted, int Batches);
