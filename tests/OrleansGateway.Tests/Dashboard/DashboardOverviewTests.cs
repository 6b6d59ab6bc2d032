using System.Net;
using System.Text.Json;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Dashboard;

/// <summary>
/// The operators' first view on a ledger, a membership table and a history written directly (no silo runs): the attention
/// list (API and <c>ogw attention</c>), the one-snapshot overview with its silos collapsed by endpoint, a session's
/// timeline (its events, its turns' transitions and the stop that premarked it) and the resume lag split at the drain.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardOverviewTests(PostgresFixture postgres)
{
    private const string OldGeneration = "127.0.0.1:11111@100";
    private const string NewGeneration = "127.0.0.1:11111@150";
    private const string OtherSilo = "127.0.0.1:11112@200";

    [Fact]
    public async Task Attention_lists_what_needs_a_person_newest_first_and_the_overview_agrees_with_it()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("dashattn");
        var clusterId = $"attn-{Guid.NewGuid():N}"[..12];
        // silo1 restarted (generation 100 Dead, 150 Active); silo2 Active. Sessions at risk, each a minute apart.
        await DashboardListingTests.ExecuteAsync(connectionString, $"""
            INSERT INTO orleansmembershipversiontable (deploymentid, version) VALUES ('{clusterId}', 3);
            INSERT INTO orleansmembershiptable (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
            VALUES ('{clusterId}', '127.0.0.1', 11112, 200, 'silo2', 'h', 3, 30001, now() - interval '40 minutes', now()),
                   ('{clusterId}', '127.0.0.1', 11111, 100, 'silo1', 'h', 6, 30000, now() - interval '50 minutes', now() - interval '5 minutes'),
                   ('{clusterId}', '127.0.0.1', 11111, 150, 'silo1', 'h', 3, 30000, now() - interval '4 minutes', now());
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, updated_at)
                 SELECT format('idle-%s', i), 'idle', '{NewGeneration}', now() - interval '1 hour' FROM generate_series(1, 30) AS i;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, active_turn_id, updated_at)
                 SELECT format('run-%s', i), 'running', '{NewGeneration}', 't1', now() FROM generate_series(1, 3) AS i;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, resume_reason, resume_marked_at, updated_at) VALUES
                 ('waiting', 'resume_pending', '{OldGeneration}', 'restart_timeout', now() - interval '1 minute', now() - interval '1 minute'),
                 ('forgotten', 'resume_pending', '{OtherSilo}', 'shutdown_timeout', now() - interval '2 hours', now() - interval '2 hours');
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, last_error, updated_at) VALUES
                 ('poison', 'quarantined', '{OtherSilo}', 'quarantined after 3 resumes without progress', now() - interval '2 minutes'),
                 ('held', 'suspended', '{OtherSilo}', NULL, now() - interval '3 minutes'),
                 ('broken', 'idle', '{NewGeneration}', 'tool weather answered 500', now() - interval '30 seconds');
            """);
        await using var dashboard = await DashboardHarness.StartAsync(connectionString, clusterId, Path.GetTempPath(), waitForCluster: false);

        var attention = await dashboard.GetJsonAsync("api/operator/attention");
        Assert.Equal(["broken failed_turn", "waiting resume_pending", "poison quarantined", "held suspended", "forgotten stale"], Listed(attention));
        Assert.Equal(5, attention.GetProperty("total").GetInt64());
        var waiting = attention.GetProperty("sessions")[1];
        Assert.Equal((OldGeneration, true, "restart_timeout"), (waiting.GetProperty("ownerSilo").GetString(), waiting.GetProperty("ownerDead").GetBoolean(),
            waiting.GetProperty("resumeReason").GetString()));
        Assert.InRange(waiting.GetProperty("ageSeconds").GetInt64(), 60, 300);
        Assert.Equal("tool weather answered 500", attention.GetProperty("sessions")[0].GetProperty("lastError").GetString());
        var limited = await dashboard.GetJsonAsync("api/operator/attention?limit=2");
        Assert.Equal((2, 5L), (limited.GetProperty("sessions").GetArrayLength(), limited.GetProperty("total").GetInt64()));

        // The overview: the same attention list, the counts, silos by name with a restart collapsed, a filtered page and its count.
        var overview = await dashboard.GetJsonAsync($"api/operator/overview?phase=idle&limit=10");
        Assert.Equal(Listed(attention), Listed(overview.GetProperty("attention")));
        var counts = overview.GetProperty("counts");
        Assert.Equal((31L, 3L, 2L, 1L, 1L, 1L), (counts.GetProperty("idle").GetInt64(), counts.GetProperty("running").GetInt64(),
            counts.GetProperty("resume_pending").GetInt64(), counts.GetProperty("suspended").GetInt64(), counts.GetProperty("quarantined").GetInt64(),
            counts.GetProperty("stale").GetInt64()));
        var silos = overview.GetProperty("silos").EnumerateArray().ToList();
        Assert.Equal(["silo1 127.0.0.1:11111 150 Active", "silo2 127.0.0.1:11112 200 Active"],
            silos.Select(s => $"{s.GetProperty("name")} {s.GetProperty("endpoint")} {s.GetProperty("generation")} {s.GetProperty("status")}"));
        Assert.Equal((3L, 3L), (silos[0].GetProperty("ownedSessions").GetInt64(), silos[0].GetProperty("ownedRunning").GetInt64()));
        var earlier = Assert.Single(silos[0].GetProperty("previousGenerations").EnumerateArray());
        Assert.Equal((OldGeneration, "Dead", 1L), (earlier.GetProperty("address").GetString(), earlier.GetProperty("status").GetString(),
            earlier.GetProperty("ownedSessions").GetInt64()));
        Assert.Equal(3L, silos[1].GetProperty("ownedSessions").GetInt64());
        Assert.All(silos, s => Assert.Equal(JsonValueKind.Null, s.GetProperty("activations").ValueKind));
        var page = overview.GetProperty("sessions");
        Assert.Equal((10, 31L), (page.GetProperty("sessions").GetArrayLength(), page.GetProperty("matching").GetInt64()));
        Assert.All(page.GetProperty("sessions").EnumerateArray(), s => Assert.Equal("idle", s.GetProperty("phase").GetString()));
        Assert.False(string.IsNullOrEmpty(overview.GetProperty("events").GetProperty("last").GetString()));

        // ogw attention: the same list as a table, and the API's document with --json.
        var environment = new Dictionary<string, string> { ["OGW_URL"] = dashboard.BaseAddress.ToString(), ["OGW_OPERATOR_TOKEN"] = DashboardHarness.OperatorToken };
        var (exitCode, output) = await OgwProcess.RunAsync(environment, "attention");
        Assert.True(exitCode == 0, output);
        Assert.Matches(@"waiting\W+resume_pending\W+resume_pending\W+restart_timeout\W+127\.0\.0\.1:11111@100 \(Dead\)\W+0\W+1m \d\ds", output);
        Assert.Contains("5 sessions (", output);
        (exitCode, output) = await OgwProcess.RunAsync(environment, "attention", "--json", "--limit", "1");
        Assert.True(exitCode == 0, output);
        var document = JsonDocument.Parse(output).RootElement;
        Assert.Equal(("broken", 5L), (document.GetProperty("sessions")[0].GetProperty("sessionId").GetString(), document.GetProperty("total").GetInt64()));
        (exitCode, output) = await OgwProcess.RunAsync(environment, "attention", "--limit", "0");
        Assert.Equal(2, exitCode); // a usage error, before any request
        Assert.Contains("--limit must be between 1 and 1000", output);

        foreach (var bad in new[] { "attention?limit=0", "attention?limit=1001", "overview?eventsAfter=x", "overview?phase=sleeping", "overview?attention=0" })
        {
            using var client = dashboard.Client();
            using var response = await client.GetAsync($"api/operator/{bad}");
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{bad}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task A_sessions_timeline_has_every_transition_and_the_resume_lag_is_split_at_the_drain()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("dashlife");
        var clusterId = $"life-{Guid.NewGuid():N}"[..12];
        // Session s1: accepted, started, premarked by silo A's stop, interrupted when A's drain timed out after 15 s,
        // resumed on B 17 s after its marker, completed. The step events are not in the timeline.
        await DashboardListingTests.ExecuteAsync(connectionString, $$"""
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, updated_at) VALUES ('s1', 'idle', '{{OtherSilo}}', now() - interval '1 minute');
            INSERT INTO gateway_turn_events (session_id, turn_number, kind, data, at) VALUES
                ('s1', 1, 'accepted', '{"messageId":"m1","text":"work 60x500","started":true,"turnId":"t1"}', now() - interval '60 s'),
                ('s1', 1, 'started', '{"execution":1,"step":0,"turnId":"t1"}', now() - interval '59.5 s'),
                ('s1', 1, 'step_finished', '{"step":1,"stepsTotal":60,"turnId":"t1"}', now() - interval '59 s'),
                ('s1', 1, 'interrupted', '{"step":20,"turnId":"t1"}', now() - interval '35 s'),
                ('s1', 1, 'resumed', '{"execution":2,"step":20,"reason":"restart_timeout","turnId":"t1"}', now() - interval '33 s'),
                ('s1', 1, 'completed', '{"reply":"done","error":null,"steps":60,"executions":2,"turnId":"t1"}', now() - interval '10 s');
            INSERT INTO gateway_events (at, kind, session_id, silo, detail, waited) VALUES
                (now() - interval '49.9 s', 'premark', NULL, '{{OldGeneration}}', 'stop 7d3c: 1 sessions marked restart_timeout in 4 ms', NULL),
                (now() - interval '35 s', 'drain_timed_out', NULL, '{{OldGeneration}}', 'stop 7d3c: after 15 s, 1 turns interrupted, 0 sessions re-marked', NULL),
                (now() - interval '33 s', 'resumed', 's1', '{{OtherSilo}}', 'turn t1 from step 21 (restart_timeout), attempt 0', interval '17 s'),
                (now() - interval '20 s', 'premark', NULL, '{{OtherSilo}}', 'stop 99aa: 0 sessions marked restart_timeout in 2 ms', NULL);
            """);
        await using var dashboard = await DashboardHarness.StartAsync(connectionString, clusterId, Path.GetTempPath(), waitForCluster: false);

        var detail = await dashboard.GetJsonAsync(DashboardHarness.SessionPath("s1"));
        var timeline = detail.GetProperty("timeline").EnumerateArray().Reverse()
            .Select(e => $"{e.GetProperty("source")} {e.GetProperty("kind")} {e.GetProperty("turnId")} {e.GetProperty("silo")}".TrimEnd()).ToList();
        Assert.Equal([
            "turn accepted t1", "turn started t1", $"stop premark  {OldGeneration}", "turn interrupted t1", $"gateway resumed  {OtherSilo}",
            "turn completed t1"], timeline);
        var entries = detail.GetProperty("timeline").EnumerateArray().ToList();
        Assert.Equal("after step 20", entries.Single(e => e.GetProperty("kind").GetString() == "interrupted").GetProperty("detail").GetString());
        Assert.Equal(17, entries.Single(e => e.GetProperty("kind").GetString() == "resumed").GetProperty("waitedSeconds").GetDouble());
        Assert.StartsWith("stop 7d3c:", entries.Single(e => e.GetProperty("kind").GetString() == "premark").GetProperty("detail").GetString());
        Assert.Equal("message m1: work 60x500", entries.Single(e => e.GetProperty("kind").GetString() == "accepted").GetProperty("detail").GetString());
        // The last progress: the completion is no progress of a running turn; the last step or start is.
        Assert.True(detail.GetProperty("session").GetProperty("lastProgressAt").GetDateTimeOffset()
            > entries.Single(e => e.GetProperty("kind").GetString() == "started").GetProperty("at").GetDateTimeOffset());

        var lag = Assert.Single((await dashboard.GetJsonAsync("api/operator/resume-lag")).GetProperty("points").EnumerateArray());
        Assert.Equal(("s1", "premark", 17.0), (lag.GetProperty("sessionId").GetString(), lag.GetProperty("stopKind").GetString(),
            lag.GetProperty("waitedSeconds").GetDouble()));
        Assert.Equal(15, lag.GetProperty("drainSeconds").GetDouble(), precision: 0);
        Assert.Equal(2, lag.GetProperty("resumeSeconds").GetDouble(), precision: 0);
    }

    private static List<string> Listed(JsonElement attention) =>
        [.. attention.GetProperty("sessions").EnumerateArray().Select(s => $"{s.GetProperty("sessionId")} {s.GetProperty("reason")}")];
}
