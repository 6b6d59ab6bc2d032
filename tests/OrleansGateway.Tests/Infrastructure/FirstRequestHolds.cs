using System.Collections.Concurrent;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// The requests a test server holds until the test lets them go: the first one of each held key (a tool's name, a model
/// request's user text). What lets a kill test stop a silo while a call is in flight; later attempts pass at once.
/// </summary>
public sealed class FirstRequestHolds
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _holds = new(StringComparer.Ordinal);

    public void Hold(string key) => _holds[key] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release(string key)
    {
        if (_holds.TryRemove(key, out var hold))
        {
            hold.TrySetResult();
        }
    }

    /// <summary>Waits while <paramref name="key"/> is held, for its <paramref name="first"/> request only.</summary>
    public Task WaitAsync(string key, bool first, CancellationToken cancellationToken) =>
        first && _holds.TryGetValue(key, out var hold) ? hold.Task.WaitAsync(cancellationToken) : Task.CompletedTask;

    public void ReleaseAll()
    {
        foreach (var key in _holds.Keys)
        {
            Release(key);
        }
    }
}
