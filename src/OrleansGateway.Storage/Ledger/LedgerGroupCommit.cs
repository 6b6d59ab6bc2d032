using Npgsql;

namespace OrleansGateway.Storage;

/// <summary>
/// Group commit of one process's ledger writes: the statements of many sessions that queue while earlier ones run go
/// to PostgreSQL together, in one round trip and one transaction, so that a commit is paid per batch and not per
/// message. Nothing waits for a batch to fill: an idle process sends a statement at once, and batches form only under
/// load, while <see cref="MaxInFlight"/> batches are running.
/// </summary>
/// <remarks>
/// A caller learns its result only after the whole batch committed: PostgreSQL runs it as one implicit transaction,
/// and a result read before the commit could still be lost. A statement that fails makes the transaction roll back;
/// the batch is then run again one statement at a time, so that each caller gets its own answer and no caller pays for
/// another's error. Statements of one session never share a batch: a session's writes wait for each other (the grain's
/// write gate). A connection lost mid-batch fails every caller of the batch, as it would fail each alone; they ride
/// it out as they would.
/// </remarks>
internal sealed class LedgerGroupCommit(NpgsqlDataSource dataSource)
{
    // Enough to hide a commit's latency behind another, few enough that batches form under load.
    private const int MaxInFlight = 2;

    // A bound on what one failed statement sends back to be run alone.
    private const int MaxBatch = 64;

    private readonly Queue<IQueued> _queue = new();
    private int _inFlight;

    /// <summary>Runs <paramref name="command"/> in the next batch; <paramref name="read"/> reads its result set.</summary>
    public Task<T> ExecuteAsync<T>(NpgsqlBatchCommand command, Func<NpgsqlDataReader, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken)
    {
        var queued = new Queued<T>(command, read);
        bool start;
        lock (_queue)
        {
            _queue.Enqueue(queued);
            start = _inFlight < MaxInFlight;
            if (start)
            {
                _inFlight++;
            }
        }

        if (start)
        {
            _ = Task.Run(SendQueuedAsync, CancellationToken.None);
        }

        // The statement is sent whatever the caller does now: a cancelled caller stops waiting, as with any statement.
        return queued.Result.WaitAsync(cancellationToken);
    }

    private async Task SendQueuedAsync()
    {
        while (true)
        {
            var batch = new List<IQueued>();
            lock (_queue)
            {
                while (batch.Count < MaxBatch && _queue.TryDequeue(out var next))
                {
                    batch.Add(next);
                }

                if (batch.Count == 0)
                {
                    _inFlight--;
                    return;
                }
            }

            try
            {
                await SendAsync(batch);
            }
            catch (PostgresException) when (batch.Count > 1)
            {
                foreach (var queued in batch)
                {
                    queued.Renew();
                    await SendAloneAsync(queued);
                }
            }
            catch (Exception exception)
            {
                batch.ForEach(queued => queued.Fail(exception));
            }
        }
    }

    private async Task SendAloneAsync(IQueued queued)
    {
        try
        {
            await SendAsync([queued]);
        }
        catch (Exception exception)
        {
            queued.Fail(exception);
        }
    }

    private async Task SendAsync(List<IQueued> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var npgsqlBatch = new NpgsqlBatch(connection);
        foreach (var queued in batch)
        {
            npgsqlBatch.BatchCommands.Add(queued.Command);
        }

        try
        {
            var results = new List<Action>(batch.Count);
            await using (var reader = await npgsqlBatch.ExecuteReaderAsync())
            {
                foreach (var queued in batch)
                {
                    results.Add(await queued.ReadAsync(reader));
                    await reader.NextResultAsync();
                }
            }

            // Disposed, the reader has seen the end of the transaction: now the results are durable.
            results.ForEach(complete => complete());
        }
        finally
        {
            npgsqlBatch.BatchCommands.Clear();
        }
    }

    private interface IQueued
    {
        NpgsqlBatchCommand Command { get; }

        /// <summary>A fresh copy of the command, to send again: a sent one keeps the binding of the batch that failed.</summary>
        void Renew();

        /// <summary>Reads this statement's result set; the action hands it to the caller.</summary>
        Task<Action> ReadAsync(NpgsqlDataReader reader);

        void Fail(Exception exception);
    }

    private sealed class Queued<T>(NpgsqlBatchCommand command, Func<NpgsqlDataReader, CancellationToken, Task<T>> read) : IQueued
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NpgsqlBatchCommand Command { get; private set; } = command;

        public void Renew()
        {
            var fresh = new NpgsqlBatchCommand(Command.CommandText);
            foreach (NpgsqlParameter parameter in Command.Parameters)
            {
                fresh.Parameters.Add(parameter.Clone());
            }

            Command = fresh;
        }

        public Task<T> Result => _result.Task;

        public async Task<Action> ReadAsync(NpgsqlDataReader reader)
        {
            var value = await read(reader, CancellationToken.None);
            return () => _result.TrySetResult(value);
        }

        public void Fail(Exception exception) => _result.TrySetException(exception);
    }
}
