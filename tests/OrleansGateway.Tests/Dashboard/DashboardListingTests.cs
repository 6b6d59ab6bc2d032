using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Dashboard;

/// <summary>
/// The read side of the operator API on a ledger written directly (no silo runs): keyset paging, filters, counts,
/// staleness, the events feed, the silos of the membership table, and every 400 and 404.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardListingTests(PostgresFixture postgres)
{
    private const string SiloA = "127.0.0.1:11111@100";
    private const string SiloB = "127.0.0.1:11112@200";

    [Fact]
    public async Task Sessions_page_by_cursor_filter_by_phase_silo_and_staleness_and_count_the_whole_ledger()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("dashlist");
        await ExecuteAsync(connectionString, $"""
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, updated_at)
                 SELECT format('idle-%s', lpad(i::text, 3, '0')), 'idle', CASE WHEN i % 2 = 0 THEN '{SiloA}' ELSE '{SiloB}' END, now() - interval '5 minutes'
                   FROM generate_series(1, 120) AS i;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, resume_reason, resume_marked_at)
                 SELECT format('stale-%s', i), 'resume_pending', '{SiloA}', 'restart_timeout', now() - interval '2 hours' FROM generate_series(1, 10) AS i;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, resume_reason, resume_marked_at)
                 SELECT format('fresh-%s', i), 'resume_pending', '{SiloB}', 'shutdown_timeout', now() - interval '30 seconds' FROM generate_series(1, 5) AS i;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, last_error)
                 SELECT format('poison-%s', i), 'quarantined', '{SiloA}', 'quarantined after 3 resumes' FROM generate_series(1, 7) AS i;
            """);
        await using var dashboard = await DashboardHarness.StartAsync(connectionString, $"list-{Guid.NewGuid():N}"[..12], Path.GetTempPath(), waitForCluster: false);

        // 120 idle sessions, 50 a page: three pages, each cursor the last id of its page, nothing twice, nothing missed.
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await dashboard.GetJsonAsync($"api/operator/sessions?phase=idle&limit=50{(cursor is null ? "" : $"&after={cursor}")}");
            var ids = page.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("sessionId").GetString()!).ToList();
            pages++;
            Assert.Equal(pages < 3 ? 50 : 20, ids.Count);
            cursor = page.GetProperty("next").GetString();
            Assert.Equal(pages < 3 ? ids[^1] : null, cursor);
            seen.AddRange(ids);
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 120).Select(i => $"idle-{i:000}"), seen);

        // The counts cover the whole ledger, whatever the filter.
        var filtered = await dashboard.GetJsonAsync($"api/operator/sessions?silo={Uri.EscapeDataString(SiloB)}&limit=500");
        var counts = filtered.GetProperty("counts");
        Assert.Equal((120, 0, 15, 0, 7, 10), (counts.GetProperty("idle").GetInt32(), counts.GetProperty("running").GetInt32(),
            counts.GetProperty("resume_pending").GetInt32(), counts.GetProperty("suspended").GetInt32(), counts.GetProperty("quarantined").GetInt32(),
            counts.GetProperty("stale").GetInt32()));
        // The dashboard samples the same counts for the chart of counts over time, from its start.
        var history = await dashboard.GetJsonAsync("api/operator/counts/history");
        Assert.Equal(5, history.GetProperty("intervalSeconds").GetDouble());
        var sample = history.GetProperty("samples").EnumerateArray().Last();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(counts.GetRawText()), JsonNode.Parse(sample.GetProperty("counts").GetRawText())), sample.ToString());

        var ofSiloB = filtered.GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(65, ofSiloB.Count);
        Assert.All(ofSiloB, s => Assert.Equal(SiloB, s.GetProperty("ownerSilo").GetString()));
        Assert.Equal(JsonValueKind.Null, filtered.GetProperty("next").ValueKind);

        // Stale: resume_pending longer than the freshness window (1 h); the age of a waiting session counts from its marker.
        var stale = (await dashboard.GetJsonAsync("api/operator/sessions?stale=true")).GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(10, stale.Count);
        Assert.All(stale, s =>
        {
            Assert.True(s.GetProperty("stale").GetBoolean());
            Assert.Equal("resume_pending", s.GetProperty("phase").GetString());
            Assert.Equal("restart_timeout", s.GetProperty("resumeReason").GetString());
            Assert.InRange(s.GetProperty("ageSeconds").GetInt64(), 7200, 7500);
        });
        var fresh = (await dashboard.GetJsonAsync("api/operator/sessions?phase=resume_pending&stale=false")).GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"fresh-{i}"), fresh.Select(s => s.GetProperty("sessionId").GetString()));
        Assert.All(fresh, s => Assert.InRange(s.GetProperty("ageSeconds").GetInt64(), 30, 300));
        var idle = (await dashboard.GetJsonAsync("api/operator/sessions?phase=idle&limit=1")).GetProperty("sessions")[0];
        Assert.InRange(idle.GetProperty("ageSeconds").GetInt64(), 300, 600);
        Assert.False(idle.GetProperty("stale").GetBoolean());

        // One session: the ledger's fields, its history; no silo runs, so its turns say why they are missing.
        await AppendEventAsync(connectionString, "quarantined", "poison-1", "quarantined after 3 resumes without progress");
        var detail = await dashboard.GetJsonAsync(DashboardHarness.SessionPath("poison-1"));
        var session = detail.GetProperty("session");
        Assert.Equal(("quarantined", "quarantined after 3 resumes", SiloA, 0L), (session.GetProperty("phase").GetString(),
            session.GetProperty("lastError").GetString(), session.GetProperty("ownerSilo").GetString(), session.GetProperty("epoch").GetInt64()));
        Assert.Empty(session.GetProperty("turns").EnumerateArray());
        Assert.False(string.IsNullOrEmpty(session.GetProperty("turnsUnavailable").GetString()));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (session.GetProperty("turnCount").ValueKind, session.GetProperty("turnsBefore").ValueKind));
        Assert.Equal("quarantined", Assert.Single(detail.GetProperty("history").EnumerateArray()).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Bad_parameters_are_400_unknown_sessions_404_and_the_events_feed_follows_its_last_id()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("dashbad");
        var clusterId = $"bad-{Guid.NewGuid():N}"[..12];
        // The membership table: an active silo, one dead for ten minutes (shown), one dead for two hours (not shown).
        await ExecuteAsync(connectionString, $"""
            INSERT INTO orleansmembershipversiontable (deploymentid, version) VALUES ('{clusterId}', 3);
            INSERT INTO orleansmembershiptable (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
            VALUES ('{clusterId}', '127.0.0.1', 11111, 100, 'alive', 'h', 3, 30000, now() - interval '20 minutes', now()),
                   ('{clusterId}', '127.0.0.1', 11112, 200, 'recently-dead', 'h', 6, 30001, now() - interval '30 minutes', now() - interval '10 minutes'),
                   ('{clusterId}', '127.0.0.1', 11113, 300, 'long-dead', 'h', 6, 30002, now() - interval '3 hours', now() - interval '2 hours');
            """);
        await using var dashboard = await DashboardHarness.StartAsync(connectionString, clusterId, Path.GetTempPath(), waitForCluster: false);

        string[] badQueries =
        [
            "sessions?phase=sleeping", "sessions?limit=0", "sessions?limit=501", "sessions?limit=ten", "sessions?stale=maybe",
            "sessions?phase=idle&phase=running", "events?after=-1", "events?after=x", "events?limit=1001", "events?limit=0",
            "sessions/s1?turns=-1", "sessions/s1?turns=501", "sessions/s1/turns?before=9", "sessions/s1/turns?before=t0", "sessions/s1/turns?limit=0",
            "sessions/s1/turns?limit=501",
        ];
        using var client = dashboard.Client();
        foreach (var query in badQueries)
        {
            using var response = await client.GetAsync($"api/operator/{query}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {body}");
            Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()), $"{query}: {body}");
        }

        using (var unknown = await client.GetAsync(DashboardHarness.SessionPath("no-such-session")))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Contains("no-such-session", await unknown.Content.ReadAsStringAsync());
        }

        using (var badId = await client.GetAsync(DashboardHarness.SessionPath("not a valid id")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        }

        // Silos: the membership's status; no silo process exists, so none reports; dead ones only for an hour.
        var silos = (await dashboard.GetJsonAsync("api/operator/silos")).EnumerateArray().ToList();
        Assert.Equal(["alive", "recently-dead"], silos.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(["Active", "Dead"], silos.Select(s => s.GetProperty("status").GetString()));
        Assert.Equal("127.0.0.1:11111@100", silos[0].GetProperty("address").GetString());
        Assert.All(silos, s =>
        {
            Assert.False(s.GetProperty("reachable").GetBoolean());
            Assert.Equal(JsonValueKind.Null, s.GetProperty("draining").ValueKind);
            Assert.Equal(JsonValueKind.Null, s.GetProperty("activeSessions").ValueKind);
            Assert.Equal(JsonValueKind.Null, s.GetProperty("runningTurns").ValueKind);
            // Not a report field: what the silo registered, and a silo without a registration is of release 0.1.
            Assert.Equal(SiloRow.Unregistered, s.GetProperty("version").GetString());
        });

        // A silo that is not active (dead, unknown) cannot be drained: 404, and the refusal is audited.
        foreach (var address in new[] { "127.0.0.1:11112@200", "10.9.9.9:1@1" })
        {
            var (status, body) = await dashboard.PostAsync($"api/operator/silos/{Uri.EscapeDataString(address)}/drain");
            Assert.True(status == HttpStatusCode.NotFound, $"drain {address}: {(int)status} {body}");
            Assert.Contains("not an active silo of cluster", body.GetProperty("error").GetString());
        }

        var refusals = await dashboard.AuditAsync();
        Assert.Equal(["127.0.0.1:11112@200", "10.9.9.9:1@1"], refusals.Select(e => e.Silo));
        Assert.All(refusals, e => Assert.Equal("operator", e.Actor));
        Assert.All(refusals, e => Assert.StartsWith("drain: ", e.Detail));

        // The feed: without `after` the latest `limit` events; with the `last` cursor of an answer, what came since.
        for (var i = 0; i < 150; i++)
        {
            await AppendEventAsync(connectionString, "resumed", $"s-{i}", $"event {i}");
        }

        var latest = await dashboard.GetJsonAsync("api/operator/events?limit=100");
        var latestIds = latest.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(100, latestIds.Count);
        Assert.Equal(latestIds.Order(), latestIds);
        Assert.Equal("event 149", latest.GetProperty("events")[99].GetProperty("detail").GetString());
        Assert.Equal(JsonValueKind.Null, latest.GetProperty("events")[99].GetProperty("waitedSeconds").ValueKind);

        var none = await dashboard.GetJsonAsync($"api/operator/events?after={latest.GetProperty("last").GetString()}");
        Assert.Empty(none.GetProperty("events").EnumerateArray());
        await AppendEventAsync(connectionString, "resumed", "s-late", "event 150");
        // Shown once every older transaction of the server has ended: at once on a quiet server, so poll briefly.
        JsonElement since = default;
        await Eventually.UntilAsync(async () =>
            {
                since = await dashboard.GetJsonAsync($"api/operator/events?after={none.GetProperty("last").GetString()}");
                return since.GetProperty("events").GetArrayLength() > 0;
            },
            TimeSpan.FromSeconds(10), () => since.ToString());
        Assert.Equal(["event 150"], since.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("detail").GetString()));

        foreach (var bad in new[] { "815", "x-1", "1-" })
        {
            using var http = dashboard.Client();
            using var response = await http.GetAsync($"api/operator/events?after={bad}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("must be the `last` cursor", await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>Runs SQL on the test's database: the ledger, membership and history these tests read, written directly.</summary>
    internal static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task AppendEventAsync(string connectionString, string kind, string sessionId, string detail)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new EventHistory(dataSource).AppendAsync(kind, sessionId, silo: null, actor: null, detail);
    }
}
