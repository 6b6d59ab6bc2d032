using System.Text.Json;
using Npgsql;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

/// <summary>
/// Notifications only for sessions that a silo streams, seen by a listener on a real PostgreSQL: stored events and live
/// events of unwatched sessions notify nobody, a watch waits for the event that found no watcher, leases lapse.
/// PostgreSQL delivers notifications in commit order, so "nothing came" is proved by what came first.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StreamWatchersTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Silo = "10.0.0.1:11111@1";
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private NpgsqlDataSource _dataSource = null!;
    private StreamWatchers _watchers = null!;
    private TurnEvents _events = null!;
    private PostgresNotifications _heard = null!;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("watchers");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _watchers = new StreamWatchers(_dataSource);
        _events = new TurnEvents(_dataSource);
        _heard = await PostgresNotifications.ListenAsync(connectionString, TurnEvents.EventsChannel, TurnEvents.LiveChannel);
    }

    public async Task DisposeAsync()
    {
        await _heard.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Fact]
    public async Task Stored_events_notify_only_while_a_watch_of_their_session_lasts()
    {
        await _watchers.WatchAsync("lapsed", Silo, TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        await AppendAsync("unwatched");
        await AppendAsync("lapsed");
        await _watchers.WatchAsync("watched", Silo, Lease);
        await AppendAsync("watched");

        Assert.Equal([(TurnEvents.EventsChannel, "watched")], await _heard.FirstAsync(1, Patience));
        Assert.Equal(3, await CountStoredAsync("unwatched", "lapsed", "watched"));
    }

    [Fact]
    public async Task A_watch_waits_for_an_event_that_found_no_watcher_so_that_a_read_after_it_finds_that_event()
    {
        await using var writer = await _dataSource.OpenConnectionAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO gateway_turn_events (session_id, kind) VALUES ('race', 'accepted')", writer, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var watch = _watchers.WatchAsync("race", Silo, Lease);
        await Task.Delay(500);
        Assert.False(watch.IsCompleted, "the watch did not wait for the uncommitted event that found no watcher");

        await transaction.CommitAsync();
        await watch.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(await _events.ReadAfterAsync("race", 0, 10));

        await AppendAsync("race");
        Assert.Equal([(TurnEvents.EventsChannel, "race")], await _heard.FirstAsync(1, Patience));
    }

    [Fact]
    public async Task Live_events_of_watched_sessions_go_out_in_order_in_one_statement_and_the_others_not_at_all()
    {
        await _watchers.WatchAsync("seen", Silo, Lease);

        await _events.PublishLiveAsync([Live("unseen", 1), Live("seen", 1), Live("seen", 2), Live("unseen", 2), Live("seen", 3)]);
        await _events.PublishLiveAsync([Live("seen", 4)]);

        var heard = await _heard.FirstAsync(4, Patience);
        Assert.All(heard, notification => Assert.Equal(TurnEvents.LiveChannel, notification.Channel));
        Assert.Equal(["seen 1", "seen 2", "seen 3", "seen 4"], heard.Select(n => Describe(n.Payload)));
    }

    [Fact]
    public async Task Renewal_extends_the_live_leases_of_one_silo_and_names_the_sessions_it_must_watch_again()
    {
        await _watchers.WatchAsync("kept", Silo, Lease);
        await _watchers.WatchAsync("lapsing", Silo, TimeSpan.FromMilliseconds(1));
        await _watchers.WatchAsync("kept", "10.0.0.2:11111@1", TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);

        var lapsed = await _watchers.RenewAsync(Silo, ["kept", "lapsing", "never-watched"], Lease);

        Assert.Equal(["lapsing", "never-watched"], lapsed.Order());
        Assert.Equal(2, await _watchers.PruneAsync());
        Assert.Equal([("kept", Silo)], await RowsAsync());

        await _watchers.WatchAsync("other", "10.0.0.2:11111@1", Lease);
        await _watchers.ForgetAsync(Silo);
        Assert.Equal([("other", "10.0.0.2:11111@1")], await RowsAsync());
    }

    private Task AppendAsync(string sessionId) => _events.AppendAsync(sessionId, new TurnEventDraft(TurnEventKinds.Accepted, 1, "{}"));

    private async Task<int> CountStoredAsync(params string[] sessionIds)
    {
        var count = 0;
        foreach (var sessionId in sessionIds)
        {
            count += (await _events.ReadAfterAsync(sessionId, 0, 10)).Count;
        }

        return count;
    }

    private static LiveNotice Live(string sessionId, int n) => new(sessionId, JsonSerializer.Serialize(new { sessionId, n }));

    private static string Describe(string payload)
    {
        var live = JsonDocument.Parse(payload).RootElement;
        return $"{live.GetProperty("sessionId").GetString()} {live.GetProperty("n").GetInt32()}";
    }

    private async Task<List<(string, string)>> RowsAsync()
    {
        await using var command = _dataSource.CreateCommand("SELECT session_id, silo FROM gateway_stream_watchers ORDER BY session_id, silo");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }
}
