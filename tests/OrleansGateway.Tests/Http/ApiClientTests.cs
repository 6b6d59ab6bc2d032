using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Http;

/// <summary>
/// The session API with clients configured: a key is needed, each client sees only its own sessions, each has its rate
/// limit, and what holds no session data needs no key. One in-process silo on a real PostgreSQL.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ApiClientTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string AlphaKey = "alpha-key-0123456789abcdef";
    private const string BetaKey = "beta-key-0123456789abcdef";
    private const string SlowKey = "slow-key-0123456789abcdef";

    private readonly RecordingLoggerProvider _logs = new();
    private HttpSiloCluster _cluster = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await postgres.CreateMigratedDatabaseAsync("clients");
        _cluster = await HttpSiloCluster.StartAsync(_connectionString, silos: 1, new Dictionary<string, string?>
        {
            ["Gateway:Clients:alpha:Key"] = AlphaKey,
            // Beta's settings hold only the hash of its key.
            ["Gateway:Clients:beta:KeySha256"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(BetaKey))),
            ["Gateway:Clients:slow:Key"] = SlowKey,
            ["Gateway:Clients:slow:RequestsPerSecond"] = "1",
            ["Gateway:Clients:slow:Burst"] = "1",
            [HttpSiloCluster.TelemetryKey] = "true",
        }, _logs);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Without_a_valid_key_nothing_is_answered_or_written()
    {
        using var http = _cluster.ClientFor(0);
        foreach (var header in new AuthenticationHeaderValue?[] { null, new("Bearer", "not-a-key-of-anyone"), new("Basic", "YWxwaGE6eA=="), new("Bearer", AlphaKey + "x") })
        {
            http.DefaultRequestHeaders.Authorization = header;
            using var response = await http.PostAsJsonAsync("api/sessions/s-nokey/messages", new { text = "hi" });

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            var error = await ErrorOf(response);
            Assert.Matches("API key is required|not valid|must be 'Bearer <API key>'", error);
        }

        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM gateway_sessions"));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM gateway_session_clients"));
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(AlphaKey) || line.Contains(BetaKey) || line.Contains("not-a-key-of-anyone"));
    }

    [Fact]
    public async Task A_session_is_its_creators_and_does_not_exist_for_other_clients()
    {
        using var alpha = Client(AlphaKey);
        using var beta = Client(BetaKey);
        using (var created = await alpha.PostAsJsonAsync("api/sessions/s-alpha/messages", new { text = "hello" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        }

        using (var own = await alpha.GetAsync("api/sessions/s-alpha"))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        // Every route answers beta as it answers for a session that does not exist, and changes nothing.
        using var unknown = await beta.GetAsync("api/sessions/s-never");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("session s-never does not exist", await ErrorOf(unknown));
        var requests = new Func<Task<HttpResponseMessage>>[]
        {
            () => beta.GetAsync("api/sessions/s-alpha"),
            () => beta.GetAsync("api/sessions/s-alpha/turns"),
            () => beta.GetAsync("api/sessions/s-alpha/stream?after=0"),
            () => beta.PostAsJsonAsync("api/sessions/s-alpha/messages", new { text = "mine now?" }),
            () => beta.PostAsync("api/sessions/s-alpha/suspend", null),
            () => beta.PostAsync("api/sessions/s-alpha/resume", null),
            () => beta.DeleteAsync("api/sessions/s-alpha"),
        };
        foreach (var request in requests)
        {
            using var response = await request();
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("session s-alpha does not exist", await ErrorOf(response));
        }

        using (var read = await alpha.GetAsync("api/sessions/s-alpha"))
        {
            var session = await read.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(1, session.GetProperty("turnCount").GetInt32());
        }

        // A refused message leaves a new session to nobody: the client whose message is good gets it.
        using (var refused = await beta.PostAsJsonAsync("api/sessions/s-free/messages", new { text = 42 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM gateway_session_clients WHERE session_id = 's-free'"));
        using (var taken = await alpha.PostAsJsonAsync("api/sessions/s-free/messages", new { text = "hi" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, taken.StatusCode);
        }

        // Deleting a session does not hand its id to another client.
        using (var deleted = await alpha.DeleteAsync("api/sessions/s-free"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using (var reused = await beta.PostAsJsonAsync("api/sessions/s-free/messages", new { text = "hi" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, reused.StatusCode);
        }

        using (var betas = await beta.PostAsJsonAsync("api/sessions/s-beta/messages", new { text = "hi" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, betas.StatusCode);
        }

        Assert.Equal(["alpha", "alpha", "beta"], await ClientsAsync());
    }

    [Fact]
    public async Task Limits_refuse_with_a_reason_and_public_routes_need_no_key()
    {
        // Burst 1, one request a second: of a quick series, most are refused, each saying when to come back.
        using var slow = Client(SlowKey);
        var statuses = new List<HttpStatusCode>();
        string? retryAfter = null;
        for (var i = 0; i < 10; i++)
        {
            using var response = await slow.GetAsync("api/sessions/s-slow");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                retryAfter = response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString();
                Assert.Contains("too many requests from client slow", await ErrorOf(response));
            }
        }

        Assert.Equal(HttpStatusCode.NotFound, statuses[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.True(int.Parse(retryAfter!) >= 1);

        // Another client's budget is its own.
        using var alpha = Client(AlphaKey);
        using (var other = await alpha.GetAsync("api/sessions/s-slow"))
        {
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }

        using var anonymous = _cluster.ClientFor(0);
        foreach (var path in new[] { "healthz", "readyz", "metrics", "openapi/v1.json" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }

        // Headers beyond the stated limits are refused by the server before any endpoint runs.
        using var crowded = new HttpRequestMessage(HttpMethod.Get, "api/sessions/s-any");
        crowded.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AlphaKey);
        for (var i = 0; i < 70; i++)
        {
            crowded.Headers.Add($"X-Extra-{i}", "x");
        }

        using (var refused = await anonymous.SendAsync(crowded))
        {
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.StatusCode);
        }
    }

    private HttpClient Client(string key)
    {
        var http = _cluster.ClientFor(0);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<string?> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<string>> ClientsAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT client FROM gateway_session_clients ORDER BY client", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var clients = new List<string>();
        while (await reader.ReadAsync())
        {
            clients.Add(reader.GetString(0));
        }

        return clients;
    }
}
