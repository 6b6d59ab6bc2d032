using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Http;

/// <summary>A 202 means the message runs: what a message, a suspend and a resume do in each phase of the session.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MessageAdmissionTests(PostgresFixture postgres) : IAsyncLifetime
{
    private SiloProcessCluster _cluster = null!;
    private HttpClient _client = null!;

    // A second silo: a post it takes for a session living on the first crosses silos, as most posts do in a cluster.
    private HttpClient _other = null!;
    private NpgsqlDataSource _dataSource = null!;
    private SessionLedger _ledger = null!;
    private SessionQueries _queries = null!;

    public async Task InitializeAsync()
    {
        _cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("admission"));
        // Sweeps only at start and on membership changes: no sweep quarantines or resumes what a test sets up.
        // Pruning every second: it only touches events older than 30 days, which only the pruning test writes.
        var quiet = new Dictionary<string, string> { ["Gateway__Resume__SweepInterval"] = "00:10:00", ["Gateway__Events__PruneInterval"] = "00:00:01" };
        _client = SiloProcessCluster.ClientFor(await _cluster.StartSiloAsync("admission", quiet));
        _other = SiloProcessCluster.ClientFor(await _cluster.StartSiloAsync("admission-other", quiet));
        _dataSource = NpgsqlDataSource.Create(_cluster.ConnectionString);
        _ledger = new SessionLedger(_dataSource);
        _queries = new SessionQueries(_dataSource);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        _other.Dispose();
        await _dataSource.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_message_to_a_stale_interruption_abandons_the_old_turn_visibly_and_runs()
    {
        await InterruptAsync("stale");
        // What a crash an hour and more ago leaves: a marker the sweepers never resume.
        await ExecuteAsync("""
            UPDATE gateway_sessions SET phase = 'resume_pending', epoch = epoch + 1, resume_reason = 'restart_interrupted',
                   resume_marked_at = now() - interval '2 hours 5 minutes' WHERE session_id = 'stale'
            """);

        var accepted = await PostAsync("stale", "hello again", HttpStatusCode.Accepted);

        Assert.Equal(("t2", "running"), (accepted.GetProperty("turnId").GetString(), accepted.GetProperty("phase").GetString()));
        Assert.Contains("turn t1 abandoned", accepted.GetProperty("note").GetString());
        var session = await WaitAsync("stale", s => s.GetProperty("phase").GetString() == "idle");
        var turns = session.GetProperty("turns").EnumerateArray().ToList();
        Assert.Equal(("failed", "completed", "hello again"),
            (turns[0].GetProperty("status").GetString(), turns[1].GetProperty("status").GetString(), turns[1].GetProperty("reply").GetString()));
        Assert.StartsWith("abandoned: interrupted 2h05m ago, older than the freshness window (1h00m)", turns[0].GetProperty("error").GetString());
        Assert.Equal(1, await CountEventsAsync("stale", EventKinds.Abandoned));
    }

    [Fact]
    public async Task A_quarantined_session_refuses_messages_and_the_user_s_suspend_and_resume_with_the_reason_and_writes_nothing()
    {
        await InterruptAsync("quarantined");
        await ExecuteAsync("""
            UPDATE gateway_sessions SET phase = 'quarantined', epoch = epoch + 1,
                   last_error = 'quarantined after 3 resumes without progress' WHERE session_id = 'quarantined'
            """);
        var before = (await _queries.GetAsync("quarantined"), await GrainStateVersionAsync("quarantined"), await CountEventsAsync("quarantined"));

        var message = await PostAsync("quarantined", "hello", HttpStatusCode.Conflict);
        var throughAnotherSilo = await PostAsync("quarantined", "hello", HttpStatusCode.Conflict, _other);
        using var suspend = await _client.PostAsync("api/sessions/quarantined/suspend", null);
        using var resume = await _client.PostAsync("api/sessions/quarantined/resume", null);

        Assert.Equal("session quarantined is quarantined (quarantined after 3 resumes without progress); it takes no messages until an operator releases it (ogw release quarantined)",
            message.GetProperty("error").GetString());
        Assert.Equal(message.GetProperty("error").GetString(), throughAnotherSilo.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Conflict, suspend.StatusCode);
        Assert.Contains("is quarantined; an operator must release it (ogw release quarantined)", await suspend.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
        Assert.Equal(before, (await _queries.GetAsync("quarantined"), await GrainStateVersionAsync("quarantined"), await CountEventsAsync("quarantined")));
        var session = await _client.GetFromJsonAsync<JsonElement>("api/sessions/quarantined");
        Assert.Equal("quarantined", session.GetProperty("phase").GetString());
        Assert.Single(session.GetProperty("turns").EnumerateArray());
    }

    [Fact]
    public async Task A_session_out_of_resume_attempts_refuses_messages_as_the_quarantine_it_is_bound_for()
    {
        await InterruptAsync("exhausted");
        // Resumed MaxAttempts (3) times without progress: never leased again, quarantined by the next sweep.
        await ExecuteAsync("""
            UPDATE gateway_sessions SET phase = 'resume_pending', epoch = epoch + 1, resume_reason = 'restart_interrupted',
                   resume_attempts = 3, resume_marked_at = now() WHERE session_id = 'exhausted'
            """);
        var version = await GrainStateVersionAsync("exhausted");

        var message = await PostAsync("exhausted", "hello", HttpStatusCode.Conflict);

        // A sweep may quarantine it between the update and the post: refused either way, for what it is or is bound to be.
        Assert.Matches(@"^session exhausted (was resumed 3 times without progress and is being quarantined|is quarantined \(quarantined after 3 resumes without progress.*\)); " +
            @"it takes no messages until an operator releases it \(ogw release exhausted\)$", message.GetProperty("error").GetString());
        Assert.Equal(version, await GrainStateVersionAsync("exhausted"));
    }

    [Fact]
    public async Task A_suspended_session_queues_the_message_says_so_and_runs_it_once_the_user_resumes()
    {
        await InterruptAsync("held");

        var accepted = await PostAsync("held", "queued while held", HttpStatusCode.Accepted);
        using var resume = await _client.PostAsync("api/sessions/held/resume", null);

        Assert.Equal(("t2", "suspended"), (accepted.GetProperty("turnId").GetString(), accepted.GetProperty("phase").GetString()));
        Assert.Equal("queued: the session is suspended; it runs once the suspension is lifted", accepted.GetProperty("note").GetString());
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        var session = await WaitAsync("held", s => s.GetProperty("phase").GetString() == "idle", TimeSpan.FromSeconds(60));
        Assert.Equal(["done 2 steps", "queued while held"], session.GetProperty("turns").EnumerateArray().Select(t => t.GetProperty("reply").GetString()));
        Assert.Equal([EventKinds.Suspended, EventKinds.SuspensionLifted], await UserEventsAsync("held"));
    }

    [Fact]
    public async Task The_user_s_resume_does_not_lift_an_operator_s_suspension()
    {
        Assert.Equal("running", (await PostAsync("operator-held", "work 2x5000", HttpStatusCode.Accepted)).GetProperty("phase").GetString());
        // The ledger write of the operator API's suspend (and of every suspension a 0.1 silo makes).
        Assert.Equal(SessionPhase.Running, await _ledger.SuspendAsync("operator-held"));

        using var resume = await _client.PostAsync("api/sessions/operator-held/resume", null);

        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
        Assert.Contains("was suspended by an operator; only an operator can resume it", await resume.Content.ReadAsStringAsync());
        Assert.Equal(SessionPhase.Suspended, (await _queries.GetAsync("operator-held"))!.Phase);
        Assert.Empty(await UserEventsAsync("operator-held"));
    }

    [Fact]
    public async Task The_silos_prune_events_older_than_the_retention_and_keep_the_rest()
    {
        await ExecuteAsync("INSERT INTO gateway_events (kind, session_id, detail, at) VALUES ('premark', 'pruned', 'old', now() - interval '31 days')");
        await ExecuteAsync("INSERT INTO gateway_events (kind, session_id, detail, at) VALUES ('premark', 'pruned', 'recent', now() - interval '29 days')");

        await Eventually.UntilAsync(async () => await CountEventsAsync("pruned") == 1, TimeSpan.FromSeconds(30), () => _cluster.Logs());
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM gateway_events WHERE session_id = 'pruned' AND detail = 'recent'"));
    }

    [Fact]
    public async Task Deleting_a_session_stops_its_turn_removes_state_row_and_history_and_leaves_one_audit_event()
    {
        await InterruptAsync("doomed");
        using (var resume = await _client.PostAsync("api/sessions/doomed/resume", null))
        {
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        }

        await PostAsync("doomed", "work 100x200", HttpStatusCode.Accepted);
        await WaitAsync("doomed", s => s.GetProperty("phase").GetString() == "running" && s.GetProperty("turns")[0].GetProperty("stepsDone").GetInt32() >= 1);

        // Through the other silo: the grain lives on the first.
        using var deleted = await _other.DeleteAsync("api/sessions/doomed");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        // Long enough for a step of the turn, had it not stopped, to write a checkpoint again.
        await Task.Delay(TimeSpan.FromSeconds(1));
        using (var gone = await _client.GetAsync("api/sessions/doomed"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Null(await _queries.GetAsync("doomed"));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM orleansstorage WHERE grainidextensionstring = 'doomed' AND payloadbinary IS NOT NULL"));
        Assert.Equal([EventKinds.Deleted], await UserEventsAsync("doomed"));
        Assert.Equal(1L, await CountEventsAsync("doomed"));

        using (var again = await _client.DeleteAsync("api/sessions/doomed"))
        using (var unknown = await _client.DeleteAsync("api/sessions/never-written"))
        using (var bad = await _client.DeleteAsync("api/sessions/no%20good"))
        {
            Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.BadRequest), (again.StatusCode, unknown.StatusCode, bad.StatusCode));
        }

        // The id is free again: a new message starts a new session from its first turn.
        var fresh = await PostAsync("doomed", "hello", HttpStatusCode.Accepted);
        Assert.Equal("t1", fresh.GetProperty("turnId").GetString());
    }

    [Fact]
    public async Task A_message_whose_write_ahead_loses_to_a_turn_ending_elsewhere_is_not_acknowledged_and_its_retry_runs()
    {
        // Running for another activation at another epoch, which ends its turn (idle, epoch moved on) right after this
        // silo's write-ahead lost to it and before the silo reads the row: a trigger ends it in the write-ahead's statement.
        await ExecuteAsync("""
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, active_turn_id)
            VALUES ('fenced', 'running', '10.9.9.9:11111@1', 5, 't9');
            CREATE FUNCTION test_end_fenced_turn() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE gateway_sessions SET phase = 'idle', active_turn_id = NULL, epoch = epoch + 1, updated_at = now()
                 WHERE session_id = 'fenced' AND phase = 'running';
                RETURN NULL;
            END $$;
            CREATE TRIGGER test_end_fenced_turn AFTER INSERT ON gateway_sessions FOR EACH STATEMENT EXECUTE FUNCTION test_end_fenced_turn();
            """);

        using var fenced = await _client.PostAsJsonAsync("api/sessions/fenced/messages", new { text = "hello", messageId = "m-1" });
        await ExecuteAsync("DROP TRIGGER test_end_fenced_turn ON gateway_sessions; DROP FUNCTION test_end_fenced_turn()");

        // Not acknowledged into an idle session that nobody runs: a retryable refusal, and nothing stored.
        Assert.True(fenced.StatusCode == HttpStatusCode.ServiceUnavailable, $"{fenced.StatusCode}: {await fenced.Content.ReadAsStringAsync()}");
        Assert.Equal("1", fenced.Headers.RetryAfter?.ToString());
        var row = (await _queries.GetAsync("fenced"))!;
        Assert.Equal((SessionPhase.Idle, 6L), (row.Phase, row.Epoch));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM orleansstorage WHERE grainidextensionstring = 'fenced' AND payloadbinary IS NOT NULL"));

        // The retry with the same messageId is accepted and runs.
        using var retried = await _client.PostAsJsonAsync("api/sessions/fenced/messages", new { text = "hello", messageId = "m-1" });
        var accepted = await retried.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(retried.StatusCode == HttpStatusCode.Accepted, $"{retried.StatusCode}: {accepted}");
        Assert.Equal(("t1", "running"), (accepted.GetProperty("turnId").GetString(), accepted.GetProperty("phase").GetString()));
        var session = await WaitAsync("fenced", s => s.GetProperty("phase").GetString() == "idle");
        Assert.Equal("hello", Assert.Single(session.GetProperty("turns").EnumerateArray()).GetProperty("reply").GetString());
    }

    /// <summary>A session whose first turn (two steps of 5 s) the user suspended mid-turn.</summary>
    private async Task InterruptAsync(string sessionId)
    {
        await PostAsync(sessionId, "work 2x5000", HttpStatusCode.Accepted);
        using var suspend = await _client.PostAsync($"api/sessions/{sessionId}/suspend", null);
        Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        await WaitAsync(sessionId, s => s.GetProperty("turns")[0].GetProperty("status").GetString() == "interrupted");
    }

    private async Task<JsonElement> PostAsync(string sessionId, string text, HttpStatusCode status, HttpClient? via = null)
    {
        using var response = await (via ?? _client).PostAsJsonAsync($"api/sessions/{sessionId}/messages", new { text });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {body}");
        return body;
    }

    private async Task<JsonElement> WaitAsync(string sessionId, Func<JsonElement, bool> condition, TimeSpan? timeout = null)
    {
        JsonElement session = default;
        await Eventually.UntilAsync(async () =>
            {
                session = await _client.GetFromJsonAsync<JsonElement>($"api/sessions/{sessionId}");
                return condition(session);
            },
            timeout ?? TimeSpan.FromSeconds(30), () => $"{session}\n{_cluster.Logs()}");
        return session;
    }

    private async Task<IReadOnlyList<string>> UserEventsAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand("SELECT kind FROM gateway_events WHERE session_id = @id AND actor = 'user' ORDER BY id");
        command.Parameters.AddWithValue("id", sessionId);
        await using var reader = await command.ExecuteReaderAsync();
        var kinds = new List<string>();
        while (await reader.ReadAsync())
        {
            kinds.Add(reader.GetString(0));
        }

        return kinds;
    }

    private async Task<long> CountEventsAsync(string sessionId, string? kind = null)
    {
        await using var command = _dataSource.CreateCommand("SELECT count(*) FROM gateway_events WHERE session_id = @id AND (@kind IS NULL OR kind = @kind)");
        command.Parameters.AddWithValue("id", sessionId);
        command.Parameters.Add(new NpgsqlParameter("kind", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)kind ?? DBNull.Value });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<int?> GrainStateVersionAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand("SELECT version FROM orleansstorage WHERE grainidextensionstring = @id");
        command.Parameters.AddWithValue("id", sessionId);
        return await command.ExecuteScalarAsync() as int?;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
