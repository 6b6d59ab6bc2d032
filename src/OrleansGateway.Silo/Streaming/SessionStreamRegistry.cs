namespace OrleansGateway.Streaming;

/// <summary>The open streams of this silo by session: where the listener delivers what PostgreSQL tells it.</summary>
public sealed class SessionStreamRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StreamSubscriber[]> _bySession = new(StringComparer.Ordinal);

    /// <summary>Open streams of <paramref name="sessionId"/>, for tests and diagnostics.</summary>
    public int CountOf(string sessionId)
    {
        lock (_lock)
        {
            return _bySession.TryGetValue(sessionId, out var subscribers) ? subscribers.Length : 0;
        }
    }

    /// <summary>The sessions with an open stream here: those whose watch this silo renews.</summary>
    public IReadOnlyCollection<string> Sessions()
    {
        lock (_lock)
        {
            return [.. _bySession.Keys];
        }
    }

    public void Add(StreamSubscriber subscriber)
    {
        lock (_lock)
        {
            _bySession[subscriber.SessionId] = _bySession.TryGetValue(subscriber.SessionId, out var others) ? [.. others, subscriber] : [subscriber];
        }
    }

    public void Remove(StreamSubscriber subscriber)
    {
        lock (_lock)
        {
            if (!_bySession.TryGetValue(subscriber.SessionId, out var subscribers))
            {
                return;
            }

            var rest = Array.FindAll(subscribers, other => !ReferenceEquals(other, subscriber));
            if (rest.Length == 0)
            {
                _bySession.Remove(subscriber.SessionId);
            }
            else
            {
                _bySession[subscriber.SessionId] = rest;
            }
        }
    }

    public void Wake(string sessionId)
    {
        foreach (var subscriber in Of(sessionId))
        {
            subscriber.Wake();
        }
    }

    public void Live(string sessionId, string frame)
    {
        foreach (var subscriber in Of(sessionId))
        {
            subscriber.Live(frame);
        }
    }

    /// <summary>Makes every stream re-read from its last event: notifications may have been missed.</summary>
    public void WakeAll()
    {
        foreach (var subscriber in All())
        {
            subscriber.Wake();
        }
    }

    public void EndAll(string reason)
    {
        foreach (var subscriber in All())
        {
            subscriber.End(reason);
        }
    }

    private StreamSubscriber[] Of(string sessionId)
    {
        lock (_lock)
        {
            return _bySession.TryGetValue(sessionId, out var subscribers) ? subscribers : [];
        }
    }

    private StreamSubscriber[] All()
    {
        lock (_lock)
        {
            return [.. _bySession.Values.SelectMany(subscribers => subscribers)];
        }
    }
}
