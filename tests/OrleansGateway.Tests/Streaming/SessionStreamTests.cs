using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Streaming;

/// <summary>
/// <c>GET /api/sessions/{id}/stream</c> on two silos in this process: what a client sees of a session that runs on the
/// other silo, resuming with Last-Event-ID, heartbeats, live events, and a client that leaves.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SessionStreamTests(PostgresFixture postgres) : IAsyncLifetime
{
    private HttpSiloCluster _cluster = null!;
    private NpgsqlDataSource _dataSource = null!;
    private TurnEvents _events = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("stream");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _events = new TurnEvents(_dataSource);
        _cluster = await HttpSiloCluster.StartAsync(connectionString, silos: 2, new Dictionary<string, string?>
        {
            ["Gateway:Stream:Heartbeat"] = "00:00:00.300",
            // Renewed every 250 ms: every test here runs across renewals, and one outlives several leases.
            ["Gateway:Stream:WatchLease"] = "00:00:01",
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Fact]
    public async Task A_stream_on_the_silo_that_does_not_run_the_session_sees_an_echo_from_accepted_to_completed()
    {
        await PostAsync(0, "echo", "first", "m1");
        await using var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "echo");
        await stream.WaitForAsync(messages => messages.Any(m => m.Id is not null), "no starting point");

        await PostAsync(0, "echo", "hello there", "m2");
        await stream.WaitForEndOfAsync("t2");

        var events = stream.Stored;
        Assert.Equal("accepted", events[0].Event);
        Assert.Equal("completed", events[^1].Event);
        Assert.All(events, e => Assert.NotNull(e.Id));
        Assert.True(events.Zip(events.Skip(1)).All(pair => pair.First.Id < pair.Second.Id), stream.Describe());
        Assert.True(stream.Messages.First(m => m.Id is not null).Id < events[0].Id, "the starting point comes before the events");

        var completed = JsonElement.Parse(events[^1].Data);
        Assert.Equal(("echo", "t2", "completed", "hello there"), (completed.GetProperty("sessionId").GetString(), completed.GetProperty("turnId").GetString(),
            completed.GetProperty("kind").GetString(), completed.GetProperty("reply").GetString()));
        Assert.True(completed.TryGetProperty("at", out _));
        Assert.Equal("m2", JsonElement.Parse(events[0].Data).GetProperty("messageId").GetString());
        Assert.DoesNotContain(events, e => e.Data.Contains("\"t1\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_work_turn_shows_its_steps_and_after_0_replays_the_session_from_its_first_event()
    {
        await PostAsync(0, "worker", "work 3x200", "m1");
        await using var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "worker", lastEventId: 0);
        await stream.WaitForEndOfAsync("t1");

        // A turn started on accept has no started event, and its last step's checkpoint is its completion.
        Assert.Equal(["accepted", "step_finished", "step_finished", "completed"], stream.Stored.Select(e => e.Event));
        Assert.Equal([0, 1], stream.Stored.Where(e => e.Event == "step_finished").Select(e => JsonElement.Parse(e.Data).GetProperty("step").GetInt32()));
        Assert.Equal((await _events.ReadAfterAsync("worker", 0, 100)).Select(e => (long?)e.Id), stream.Stored.Select(e => e.Id));
        // The steps' live starts, sent as they happen, without ids.
        Assert.Contains(stream.Events, e => e is { Event: "step_started", Id: null });
    }

    [Fact]
    public async Task A_client_that_reconnects_with_Last_Event_ID_gets_exactly_the_stored_events_it_missed()
    {
        await PostAsync(0, "resumer", "work 6x300", "m1");
        long lastSeen;
        await using (var first = await StreamRecording.OpenAsync(_cluster.Addresses[1], "resumer", lastEventId: 0))
        {
            await first.WaitForAsync(_ => first.Events.Count(e => e.Event == "step_finished") >= 2, "two steps");
            lastSeen = first.Stored[^1].Id!.Value;
        }

        await PostAsync(1, "resumer", "hello", "m2");
        using (var client = _cluster.ClientFor(1))
        {
            await Eventually.UntilAsync(async () => (await client.GetFromJsonAsync<JsonElement>("api/sessions/resumer")).GetProperty("phase").GetString() == "idle",
                TimeSpan.FromSeconds(30), () => "the session did not finish both turns");
        }

        await using var second = await StreamRecording.OpenAsync(_cluster.Addresses[0], "resumer", lastEventId: lastSeen);
        var missed = await _events.ReadAfterAsync("resumer", lastSeen, 100);
        await second.WaitForAsync(_ => second.Stored.Count >= missed.Count, $"the {missed.Count} missed events");
        await Task.Delay(500);

        Assert.Equal(missed.Select(e => (long?)e.Id), second.Stored.Select(e => e.Id));
        Assert.Equal(missed.Select(e => e.Kind), second.Stored.Select(e => e.Event));
        Assert.Equal("completed", second.Stored[^1].Event);
    }

    [Fact]
    public async Task An_open_stream_gets_heartbeats_and_says_it_is_an_unbuffered_event_stream()
    {
        await PostAsync(0, "quiet", "hello", "m1");
        await using var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "quiet");

        await stream.WaitForAsync(messages => messages.Count(m => m.Comment == "heartbeat") >= 3, "three heartbeats in a quiet stream", seconds: 10);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        Assert.True(stream.Response.Headers.CacheControl?.NoCache, stream.Response.Headers.ToString());
    }

    [Fact]
    public async Task A_client_that_leaves_is_removed_from_the_silo_at_once()
    {
        await PostAsync(0, "leaver", "hello", "m1");
        var registry = _cluster.Service<SessionStreamRegistry>(1);
        var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "leaver");
        await using (var second = await StreamRecording.OpenAsync(_cluster.Addresses[1], "leaver"))
        {
            Assert.Equal(2, registry.CountOf("leaver"));
            await stream.DisposeAsync();
            await Eventually.UntilAsync(() => Task.FromResult(registry.CountOf("leaver") == 1), TimeSpan.FromSeconds(5),
                () => $"{registry.CountOf("leaver")} streams registered after one client left");
        }

        await Eventually.UntilAsync(() => Task.FromResult(registry.CountOf("leaver") == 0), TimeSpan.FromSeconds(5),
            () => $"{registry.CountOf("leaver")} streams registered after both clients left");
    }

    [Fact]
    public async Task A_stream_open_for_longer_than_its_watch_lease_still_hears_of_new_events()
    {
        await PostAsync(0, "long-open", "first", "m1");
        await using var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "long-open");
        await stream.WaitForAsync(messages => messages.Any(m => m.Id is not null), "no starting point");

        // Three leases: without renewals the watch would have lapsed and the turn's events would notify nobody.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await PostAsync(0, "long-open", "still there?", "m2");
        await stream.WaitForEndOfAsync("t2");

        Assert.Equal(["accepted", "completed"], stream.Stored.Where(e => e.Data.Contains("\"turnId\":\"t2\"", StringComparison.Ordinal)).Select(e => e.Event));
    }

    [Fact]
    public async Task Live_events_go_out_without_an_id_to_the_streams_of_their_session_only()
    {
        await PostAsync(0, "live", "hello", "m1");
        await using var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "live");

        // Another session that some silo streams: its event reaches the listener, which must not hand it to this stream.
        await new StreamWatchers(_dataSource).WatchAsync("elsewhere", "another-silo", TimeSpan.FromMinutes(5));
        await _events.PublishLiveAsync(
        [
            new("elsewhere", """{"sessionId":"elsewhere","turnId":"t9","kind":"delta","step":0,"text":"not for you"}"""),
            new("live", """{"sessionId":"live","turnId":"t2","kind":"step_started","step":0,"text":null}"""),
            new("live", """{"sessionId":"live","turnId":"t2","kind":"delta","step":0,"text":"Hel"}"""),
            new("live", """{"sessionId":"live","turnId":"t2","kind":"delta","step":0,"text":"lo"}"""),
        ]);
        await stream.WaitForAsync(_ => Published().Count >= 3, "the three live events");

        Assert.Equal(["step_started", "delta", "delta"], Published().Select(e => e.Event));
        Assert.All(Published(), e => Assert.Null(e.Id));
        Assert.Equal("Hello", string.Concat(Published().Skip(1).Select(e => JsonElement.Parse(e.Data).GetProperty("text").GetString())));
        Assert.DoesNotContain(stream.Events, e => e.Data.Contains("not for you", StringComparison.Ordinal));

        // Those of this test's turn: the session's own t1 may still send its live step start.
        List<StreamMessage> Published() => [.. stream.Events.Where(e => e.Data.Contains("\"turnId\":\"t2\"", StringComparison.Ordinal))];
    }

    [Fact]
    public async Task A_listener_that_loses_its_connection_reconnects_and_the_streams_read_what_was_committed_meanwhile()
    {
        await PostAsync(0, "outage", "hello", "m1");
        await using var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "outage");
        await stream.WaitForAsync(messages => messages.Any(m => m.Id is not null), "no starting point");

        // Every silo's listener, as a database restart would: the events committed before they listen again are only stored.
        await using (var terminate = _dataSource.CreateCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"))
        {
            Assert.Equal(2L, await terminate.ExecuteScalarAsync());
        }

        await PostAsync(0, "outage", "after the outage", "m2");
        await stream.WaitForEndOfAsync("t2");
        Assert.Equal("accepted", stream.Stored[0].Event);
    }

    [Fact]
    public async Task A_silo_that_stops_ends_its_streams_and_their_clients_resume_on_another_silo()
    {
        await PostAsync(0, "moving", "hello", "m1");
        var stream = await StreamRecording.OpenAsync(_cluster.Addresses[1], "moving", lastEventId: 0);
        await using (stream)
        {
            await stream.WaitForEndOfAsync("t1");

            // Within the stop, not after Kestrel's shutdown timeout: the silo stops before its HTTP server waits on requests.
            await _cluster.StopSiloAsync(1).WaitAsync(TimeSpan.FromSeconds(15));
            await Eventually.UntilAsync(() => Task.FromResult(stream.Ended), TimeSpan.FromSeconds(5), () => "the stream outlived its silo");
        }

        await using var resumed = await StreamRecording.OpenAsync(_cluster.Addresses[0], "moving", stream.Stored[^1].Id);
        await PostAsync(0, "moving", "again", "m2");
        await resumed.WaitForEndOfAsync("t2");
        Assert.Equal((await _events.ReadAfterAsync("moving", 0, 100)).Select(e => (long?)e.Id), stream.Stored.Concat(resumed.Stored).Select(e => e.Id));
    }

    [Fact]
    public async Task Bad_resume_points_are_400_and_a_session_never_written_is_404()
    {
        await PostAsync(0, "known", "hello", "m1");
        using var client = _cluster.ClientFor(1);
        var cases = new (string Path, string? LastEventId, HttpStatusCode Status, string Error)[]
        {
            ("api/sessions/known/stream", "abc", HttpStatusCode.BadRequest, "Last-Event-ID must be a stream event id (a whole number from 0), not 'abc'"),
            ("api/sessions/known/stream", "-1", HttpStatusCode.BadRequest, "Last-Event-ID must be a stream event id (a whole number from 0), not '-1'"),
            ("api/sessions/known/stream?after=1.5", null, HttpStatusCode.BadRequest, "after must be a stream event id (a whole number from 0), not '1.5'"),
            ("api/sessions/known/stream?after=1&after=2", null, HttpStatusCode.BadRequest, "after is given 2 times; give it once"),
            ("api/sessions/nobody/stream", null, HttpStatusCode.NotFound, "session nobody does not exist"),
            ($"api/sessions/{Uri.EscapeDataString("not valid!")}/stream", null, HttpStatusCode.BadRequest, "sessionId must be "),
        };
        foreach (var (path, lastEventId, status, error) in cases)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (lastEventId is not null)
            {
                request.Headers.TryAddWithoutValidation(SessionStreamClient.LastEventIdHeader, lastEventId);
            }

            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == status, $"{path} ({lastEventId}): {(int)response.StatusCode} {body}");
            Assert.StartsWith(error, body.GetProperty("error").GetString());
        }
    }

    private async Task PostAsync(int silo, string sessionId, string text, string messageId)
    {
        using var client = _cluster.ClientFor(silo);
        using var response = await client.PostAsJsonAsync($"api/sessions/{sessionId}/messages", new { text, messageId });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
