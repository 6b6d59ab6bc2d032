using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Http;

/// <summary>Every kind of bad request gets a 4xx with a reason, and nothing is written.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BadInputTests(PostgresFixture postgres) : IAsyncLifetime
{
    private SiloProcessCluster _cluster = null!;
    private SiloProcess _silo = null!;
    private HttpClient _client = null!;

    public static TheoryData<string, string, int, string> BadMessages => new()
    {
        // session id, body, status, reason contains
        { "bad id", """{"text":"hi"}""", 400, "sessionId must be 1-128 characters" },
        { new string('a', 129), """{"text":"hi"}""", 400, "sessionId must be 1-128 characters" },
        { "abc\n", """{"text":"hi"}""", 400, "sessionId must be 1-128 characters" },
        { "s-no-text", """{"messageId":"m1"}""", 400, "text is required" },
        { "s-null-text", """{"text":null}""", 400, "text is required" },
        { "s-not-json", "text=hi", 400, "not valid JSON" },
        { "s-empty-body", "", 400, "not valid JSON" },
        { "s-wrong-type", """{"text":42}""", 400, "text must be a string, not a number" },
        { "s-wrong-message-id-type", """{"text":"hi","messageId":{"id":1}}""", 400, "messageId must be a string, not an object" },
        { "s-not-an-object", """["hi"]""", 400, "the body must be a JSON object" },
        { "s-zero-steps", """{"text":"work 0x10"}""", 400, "steps must be between 1 and 10000" },
        { "s-many-steps", """{"text":"work 10001x10"}""", 400, "steps must be between 1 and 10000" },
        { "s-long-step", """{"text":"work 1x600001"}""", 400, "step milliseconds must be between 0 and 600000" },
        { "s-bad-message-id", """{"text":"hi","messageId":"has space"}""", 400, "messageId must be 1-128 characters" },
        { "s-empty-message-id", """{"text":"hi","messageId":""}""", 400, "messageId must be 1-128 characters" },
        { "s-newline-message-id", """{"text":"hi","messageId":"m1\n"}""", 400, "messageId must be 1-128 characters" },
        { "s-long-text", JsonSerializer.Serialize(new { text = new string('x', 64 * 1024 + 1) }), 413, "text is 65537 bytes; the limit is 65536" },
        { "s-long-utf8", JsonSerializer.Serialize(new { text = new string('é', 32 * 1024 + 1) }), 413, "text is 65538 bytes" },
        { "s-huge-body", JsonSerializer.Serialize(new { text = "hi", padding = new string('x', 1024 * 1024) }), 413, "the limit is" },
    };

    public static TheoryData<string, string> BadReads => new()
    {
        // path, reason
        { "api/sessions/s-read?turns=-1", "turns must be a whole number from 0 to 500, not '-1'" },
        { "api/sessions/s-read?turns=501", "turns must be a whole number from 0 to 500, not '501'" },
        { "api/sessions/s-read?turns=ten", "turns must be a whole number from 0 to 500, not 'ten'" },
        { "api/sessions/s-read?turns=2.5", "turns must be a whole number from 0 to 500, not '2.5'" },
        { "api/sessions/s-read?turns=1&turns=2", "turns is given 2 times; give it once" },
        { "api/sessions/s-read/turns?limit=0", "limit must be a whole number from 1 to 500, not '0'" },
        { "api/sessions/s-read/turns?limit=501", "limit must be a whole number from 1 to 500, not '501'" },
        { "api/sessions/s-read/turns?limit=x", "limit must be a whole number from 1 to 500, not 'x'" },
        { "api/sessions/s-read/turns?before=7", "before must be a turn id: t followed by a number from 1 (t1, t2, ...), not '7'" },
        { "api/sessions/s-read/turns?before=t0", "before must be a turn id: t followed by a number from 1 (t1, t2, ...), not 't0'" },
        { "api/sessions/s-read/turns?before=t1&before=t2", "before is given 2 times; give it once" },
        { "api/sessions/not%20valid/turns?before=t1", "sessionId must be 1-128 characters" },
    };

    public async Task InitializeAsync()
    {
        _cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("http"));
        _silo = await _cluster.StartSiloAsync("http");
        _client = SiloProcessCluster.ClientFor(_silo);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cluster.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task A_bad_message_is_refused_with_a_reason_and_nothing_is_written(string sessionId, string body, int status, string reason)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync($"api/sessions/{Uri.EscapeDataString(sessionId)}/messages", content);

        Assert.Equal(status, (int)response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
        Assert.Contains(reason, error);
        Assert.Equal((0L, 0L), await CountStoredAsync());
    }

    [Theory]
    [MemberData(nameof(BadReads))]
    public async Task A_bad_read_is_refused_with_a_reason_and_nothing_is_written(string path, string reason)
    {
        using var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(reason, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal((0L, 0L), await CountStoredAsync());
    }

    [Fact]
    public async Task A_body_announced_too_large_is_refused_before_it_is_read()
    {
        using var content = new ByteArrayContent(new byte[2 * 1024 * 1024]);
        content.Headers.ContentType = new("application/json");
        using var response = await _client.PostAsync("api/sessions/s-announced/messages", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("the limit is", await response.Content.ReadAsStringAsync());
        Assert.Equal((0L, 0L), await CountStoredAsync());
    }

    [Fact]
    public async Task An_unknown_session_is_404_and_a_malformed_id_400()
    {
        using var unknown = await _client.GetAsync("api/sessions/nobody-here");
        using var malformed = await _client.GetAsync($"api/sessions/{Uri.EscapeDataString("not valid!")}");
        using var newline = await _client.GetAsync("api/sessions/abc%0A");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("session nobody-here does not exist", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, newline.StatusCode);
        Assert.Equal((0L, 0L), await CountStoredAsync());
    }

    [Fact]
    public async Task A_good_message_after_bad_ones_is_accepted_and_answered()
    {
        using var response = await _client.PostAsJsonAsync("api/sessions/ok-good/messages", new { text = "work 1x10", messageId = "m-1" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("ok-good", "m-1", "t1"),
            (accepted.GetProperty("sessionId").GetString(), accepted.GetProperty("messageId").GetString(), accepted.GetProperty("turnId").GetString()));

        using var repeated = await _client.PostAsJsonAsync("api/sessions/ok-good/messages", new { text = "work 1x10", messageId = "m-1" });
        Assert.Equal("t1", (await repeated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("turnId").GetString());

        JsonElement session = default;
        await Eventually.UntilAsync(async () =>
            {
                session = await _client.GetFromJsonAsync<JsonElement>("api/sessions/ok-good");
                return session.GetProperty("phase").GetString() == "idle";
            },
            TimeSpan.FromSeconds(30), () => session.ToString());
        // Every field, as the README shows them.
        Assert.Equal(["sessionId", "phase", "resumeReason", "resumeAttempts", "ownerSilo", "turns", "resumeMarkedAt", "stale", "lastError", "turnCount", "turnsBefore"],
            session.EnumerateObject().Select(property => property.Name));
        var turn = Assert.Single(session.GetProperty("turns").EnumerateArray());
        Assert.Equal(["turnId", "messageId", "status", "stepsDone", "stepsTotal", "executions", "reply", "error", "usage"], turn.EnumerateObject().Select(property => property.Name));
        Assert.Equal(("completed", "done 1 steps", 1, 1), (turn.GetProperty("status").GetString(), turn.GetProperty("reply").GetString(),
            turn.GetProperty("stepsDone").GetInt32(), turn.GetProperty("executions").GetInt32()));
    }

    [Fact]
    public async Task Suspend_and_resume_answer_with_the_phase_or_a_reason()
    {
        using (var posted = await _client.PostAsJsonAsync("api/sessions/ok-held/messages", new { text = "work 50x100" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        using var suspended = await _client.PostAsync("api/sessions/ok-held/suspend", null);
        using var resumedTwice = await _client.PostAsync("api/sessions/ok-held/resume", null);
        using var notSuspended = await _client.PostAsync("api/sessions/ok-held/resume", null);
        using var unknown = await _client.PostAsync("api/sessions/nobody/suspend", null);
        using var malformed = await _client.PostAsync($"api/sessions/{Uri.EscapeDataString("no way")}/resume", null);

        Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        Assert.Equal("suspended", (await suspended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("phase").GetString());
        Assert.Equal(HttpStatusCode.OK, resumedTwice.StatusCode);
        Assert.Equal("running", (await resumedTwice.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("phase").GetString());
        Assert.Equal(HttpStatusCode.Conflict, notSuspended.StatusCode);
        Assert.Equal("session ok-held is running, not suspended", (await notSuspended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal((0L, 0L), await CountStoredAsync());
    }

    [Fact]
    public async Task A_storage_error_is_a_503_in_the_api_shape_with_a_retry_hint()
    {
        await using var dataSource = NpgsqlDataSource.Create(_cluster.ConnectionString);
        await dataSource.CreateCommand("ALTER TABLE gateway_sessions RENAME TO gateway_sessions_away").ExecuteNonQueryAsync();
        try
        {
            using var response = await _client.PostAsJsonAsync("api/sessions/ok-no-ledger/messages", new { text = "hi" });

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
            Assert.Equal("the session's storage is unavailable; retry the request", error);
        }
        finally
        {
            await dataSource.CreateCommand("ALTER TABLE gateway_sessions_away RENAME TO gateway_sessions").ExecuteNonQueryAsync();
        }

        await Eventually.UntilAsync(() => Task.FromResult(_cluster.CountLogLines("POST /api/sessions/ok-no-ledger/messages failed, answered 503") == 1),
            TimeSpan.FromSeconds(10), _cluster.Logs);
    }

    /// <summary>Ledger rows and grain state rows of every session other than the tests' good ones (<c>ok-*</c>).</summary>
    private async Task<(long Ledger, long GrainState)> CountStoredAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(_cluster.ConnectionString);
        await using var ledger = dataSource.CreateCommand("SELECT count(*) FROM gateway_sessions WHERE session_id NOT LIKE 'ok-%'");
        await using var grains = dataSource.CreateCommand("SELECT count(*) FROM orleansstorage WHERE grainidextensionstring IS NULL OR grainidextensionstring NOT LIKE 'ok-%'");
        return ((long)(await ledger.ExecuteScalarAsync())!, (long)(await grains.ExecuteScalarAsync())!);
    }
}
