using System.Collections.Concurrent;

namespace OrleansGateway.Resume;

/// <summary>
/// The turns executing on this silo right now, each with the way to interrupt it. The drain waits for this
/// set to empty and, on timeout, cancels what is left. A queued turn is not here: only turns whose agent runs.
/// </summary>
public sealed class RunningTurns(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _turns = new();

    public int Count => _turns.Count;

    public IReadOnlyCollection<string> SessionIds => [.. _turns.Keys];

    /// <summary>Records a running turn until the returned handle is disposed.</summary>
    public IDisposable Track(string sessionId, CancellationTokenSource interrupt)
    {
        _turns[sessionId] = interrupt;
        return new Registration(this, sessionId, interrupt);
    }

    /// <summary>True when no turn runs any more; false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitUntilNoneAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Monotonic: a wall clock set forward (NTP, a VM resumed) must not cut the drain short.
        var started = time.GetTimestamp();
        while (!_turns.IsEmpty)
        {
            if (time.GetElapsedTime(started) >= timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Asks every running turn to stop after checkpointing; returns how many were asked. A turn that ends meanwhile
    /// (its source disposed after this took its list) is not counted and does not keep the others from being asked.
    /// </summary>
    public int InterruptAll()
    {
        var interrupted = 0;
        foreach (var interrupt in _turns.Values)
        {
            try
            {
                interrupt.Cancel();
                interrupted++;
            }
            catch (ObjectDisposedException)
            {
                // That turn is over: nothing to interrupt.
            }
        }

        return interrupted;
    }

    private sealed class Registration(RunningTurns owner, string sessionId, CancellationTokenSource interrupt) : IDisposable
    {
        public void Dispose() => owner._turns.TryRemove(new KeyValuePair<string, CancellationTokenSource>(sessionId, interrupt));
    }
}
