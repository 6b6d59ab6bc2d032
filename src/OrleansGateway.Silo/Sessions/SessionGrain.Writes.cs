namespace OrleansGateway.Sessions;

// The writes: one writer at a time through the gate, fenced on the session's ownership, riding out a short outage.
public sealed partial class SessionGrain
{
    /// <summary>
    /// A zombie that woke from SIGSTOP between its last fence and its next step finds out here, before the step: its
    /// silo was declared dead, or its session taken. Costs a read only after such a pause.
    /// </summary>
    private async Task RefenceIfPausedAsync()
    {
        if (!_ownership.ConfirmationIsStale)
        {
            return;
        }

        var sentAt = _ownership.Now();
        if (!await RideOutAsync(() => ledger.FenceCheckpointAsync(SessionId, _ownership.Held, progressed: false)))
        {
            throw new LedgerFenceException(SessionId);
        }

        _ownership.Confirm(sentAt);
    }

    private Task<T> RideOutAsync<T>(Func<Task<T>> write) =>
        StorageOutage.RetryAsync(write, time, StorageOutage.RideOut, (exception, delay) => LogStorageRetry(exception, SessionId, delay), _deactivating.Token);

    private Task RideOutAsync(Func<Task> write) =>
        StorageOutage.RetryAsync(write, time, StorageOutage.RideOut, (exception, delay) => LogStorageRetry(exception, SessionId, delay), _deactivating.Token);

    /// <summary>Waits for the write gate; disposing the answer lets the next writer in.</summary>
    private async ValueTask<IDisposable> EnterWriteGateAsync()
    {
        await _writeGate.WaitAsync();
        return new WriteGateHeld(_writeGate);
    }

    private sealed class WriteGateHeld(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    private Task WriteAsync(Func<Task> write) => WriteAsync(requireOwnership: true, write);

    private async Task WriteAsync(bool requireOwnership, Func<Task> write)
    {
        using (await EnterWriteGateAsync())
        {
            if (requireOwnership && !_ownership.Owns)
            {
                throw new LedgerFenceException(SessionId);
            }

            await write();
        }
    }
}
