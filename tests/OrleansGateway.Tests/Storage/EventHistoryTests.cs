using Npgsql;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

/// <summary>The operators' history as a feed that followers read with a cursor, against a real PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class EventHistoryTests(PostgresFixture postgres) : IAsyncLifetime
{
    private NpgsqlDataSource _dataSource = null!;
    private EventHistory _events = null!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync("events"));
        _events = new EventHistory(_dataSource);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task An_event_that_commits_after_a_later_one_is_not_skipped_by_a_follower()
    {
        var start = await _events.ReadLatestAsync(100);
        Assert.Empty(start.Events);

        // Two silos append at once: the first takes its id, the second takes the next id and commits first.
        await using var transaction = await AppendUncommittedAsync("slow");

        await _events.AppendAsync(EventKinds.Resumed, "fast", silo: null, actor: null, "fast");

        // While the slow one is open, the follower is held at its horizon: it sees neither, so it cannot pass the slow one.
        var held = await _events.ReadAfterAsync(start.Next, 100);
        Assert.Empty(held.Events);

        await transaction.CommitAsync();
        var both = await _events.ReadAfterAsync(held.Next, 100);
        Assert.Equal(["slow", "fast"], both.Events.Select(e => e.Detail));
        Assert.True(both.Events[0].Id < both.Events[1].Id);

        // Read on: nothing twice.
        Assert.Empty((await _events.ReadAfterAsync(both.Next, 100)).Events);
    }

    [Fact]
    public async Task A_full_page_continues_where_it_stopped_and_the_latest_page_starts_a_feed()
    {
        // Paging, not the horizon: the horizon is the server's oldest running transaction, and on the tests' shared server
        // that may be another test's (a silo shutting down, in another database). No wait limit lists what committed.
        var events = new EventHistory(_dataSource) { FeedWaitLimit = TimeSpan.Zero };
        for (var i = 0; i < 25; i++)
        {
            await events.AppendAsync(EventKinds.OperatorAction, $"s-{i}", silo: null, actor: "operator", $"event {i}");
        }

        var latest = await events.ReadLatestAsync(10);
        Assert.Equal(Enumerable.Range(15, 10).Select(i => $"event {i}"), latest.Events.Select(e => e.Detail));

        var seen = new List<string>();
        var cursor = EventCursor.Start;
        for (var page = 0; page < 3; page++)
        {
            var read = await events.ReadAfterAsync(cursor, 10);
            seen.AddRange(read.Events.Select(e => e.Detail));
            cursor = read.Next;
        }

        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"event {i}"), seen);
        Assert.Empty((await events.ReadAfterAsync(latest.Next, 10)).Events);
        Assert.True(EventCursor.TryParse(cursor.ToString(), out var parsed) && parsed == cursor);
        Assert.False(EventCursor.TryParse("815", out _));
        Assert.False(EventCursor.TryParse("-1-2", out _));
    }

    [Fact]
    public async Task A_transaction_left_open_holds_the_feed_back_only_for_the_wait_limit()
    {
        var events = new EventHistory(_dataSource) { FeedWaitLimit = TimeSpan.FromSeconds(1) };
        var start = await events.ReadLatestAsync(100);

        // Someone's transaction, left open: it holds the snapshot's xmin back.
        await using var transaction = await AppendUncommittedAsync("forgotten");

        await events.AppendAsync(EventKinds.Resumed, "s-1", silo: null, actor: null, "behind it");
        var held = await events.ReadAfterAsync(start.Next, 100);
        Assert.Empty(held.Events);

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var listed = await events.ReadAfterAsync(held.Next, 100);
        Assert.Equal(["behind it"], listed.Events.Select(e => e.Detail));
        Assert.Equal(["behind it"], (await events.ReadLatestAsync(100)).Events.Select(e => e.Detail));

        // As documented: the open transaction's own event, committed now, sorts behind the cursor and is not listed.
        await transaction.CommitAsync();
        Assert.Empty((await events.ReadAfterAsync(listed.Next, 100)).Events);
    }

    [Fact]
    public async Task Pruning_deletes_old_events_in_batches_keeps_new_ones_and_waits_for_no_second_pruner()
    {
        await ExecuteAsync("""
            INSERT INTO gateway_events (kind, detail, at)
            SELECT 'premark', 'old ' || i, now() - interval '40 days' FROM generate_series(1, 2500) AS i
            """);
        for (var i = 0; i < 3; i++)
        {
            await _events.AppendAsync(EventKinds.OperatorAction, "s-new", silo: null, actor: "operator", $"new {i}");
        }

        var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromDays(30);

        // Another silo prunes right now: this one skips and deletes nothing.
        await using (var other = await _dataSource.OpenConnectionAsync())
        {
            await using var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({EventHistory.PruneLockKey})", other);
            await hold.ExecuteNonQueryAsync();
            Assert.Equal(new EventPruneResult(Skipped: true, Deleted: 0, Batches: 0), await _events.PruneAsync(cutoff, batchSize: 1000));
            Assert.Equal(2503L, await CountAsync());
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({EventHistory.PruneLockKey})", other);
            await release.ExecuteNonQueryAsync();
        }

        var pruned = await _events.PruneAsync(cutoff, batchSize: 1000);

        Assert.Equal(new EventPruneResult(Skipped: false, Deleted: 2500, Batches: 3), pruned);
        Assert.Equal(["new 0", "new 1", "new 2"], (await _events.ReadLatestAsync(100)).Events.Select(e => e.Detail));
        Assert.Equal(new EventPruneResult(Skipped: false, Deleted: 0, Batches: 0), await _events.PruneAsync(cutoff, batchSize: 1000));
    }

    /// <summary>An event appended in a transaction on a connection of its own, still open: commit or dispose it.</summary>
    private async Task<UncommittedEvent> AppendUncommittedAsync(string detail)
    {
        var connection = await _dataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO gateway_events (kind, detail) VALUES ('resumed', @detail)", connection, transaction);
        insert.Parameters.AddWithValue("detail", detail);
        await insert.ExecuteNonQueryAsync();
        return new UncommittedEvent(connection, transaction);
    }

    private sealed class UncommittedEvent(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task CommitAsync() => transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync()
    {
        await using var command = _dataSource.CreateCommand("SELECT count(*) FROM gateway_events");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
