using System.Net;
using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Dashboard;

/// <summary>
/// What the operator API's actions do to real silo processes and the ledger: suspend, resume, release from quarantine,
/// drain (the silo exits 0) and restart (it exits 75), each with its audit event, and their 404s and 409s.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardActionTests(PostgresFixture postgres)
{
    // Short drains: an operator's stop premarks at once, and the silo is gone a few seconds later.
    private static readonly Dictionary<string, string> QuickStops = new()
    {
        ["Gateway__Resume__DrainTimeout"] = "00:00:02",
        ["Gateway__Resume__InterruptGrace"] = "00:00:01",
    };

    [Fact]
    public async Task Session_actions_change_the_ledger_and_silo_actions_stop_the_silo_each_with_an_audit_event()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("dashact"));
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        var ledger = new SessionQueries(dataSource);

        // Silo A alone takes four long turns, so that they are A's when A is drained.
        var siloA = await cluster.StartSiloAsync("a", QuickStops);
        string[] onA = ["drain-1", "drain-2", "drain-3", "drain-4"];
        foreach (var id in onA)
        {
            await PostAsync(siloA, id, "work 200x500");
        }

        var running = await WaitForAsync(ledger, onA, rows => rows.All(r => r.Phase == SessionPhase.Running), "A runs its turns", cluster);
        var addressA = Assert.Single(running.Select(r => r.OwnerSilo).Distinct())!;
        var siloB = await cluster.StartSiloAsync("b", QuickStops);
        await using var dashboard = await DashboardHarness.StartAsync(cluster.ConnectionString, cluster.ClusterId, cluster.LogDirectory);

        // Suspend and resume.
        await PostAsync(siloB, "act-1", "work 200x500");
        await WaitForAsync(ledger, ["act-1"], rows => rows[0].Phase == SessionPhase.Running, "act-1 runs", cluster);
        await ExpectAsync(dashboard, "act-1/suspend", HttpStatusCode.OK, "suspended", DashboardHarness.AliceToken);
        Assert.Equal(SessionPhase.Suspended, (await ledger.GetAsync("act-1"))!.Phase);
        await ExpectAsync(dashboard, "act-1/resume", HttpStatusCode.OK, "running");
        Assert.Equal(SessionPhase.Running, (await ledger.GetAsync("act-1"))!.Phase);
        var detail = (await dashboard.GetJsonAsync(DashboardHarness.SessionPath("act-1"))).GetProperty("session");
        var turn = Assert.Single(detail.GetProperty("turns").EnumerateArray());
        Assert.Equal(("running", 200), (turn.GetProperty("status").GetString(), turn.GetProperty("stepsTotal").GetInt32()));
        Assert.Equal("t1", detail.GetProperty("activeTurnId").GetString());

        // Refusals: nothing to resume, nothing to release, no such session.
        await ExpectAsync(dashboard, "act-1/resume", HttpStatusCode.Conflict);
        await ExpectAsync(dashboard, "act-1/release", HttpStatusCode.Conflict);
        foreach (var action in new[] { "resume", "suspend", "release" })
        {
            await ExpectAsync(dashboard, $"ghost/{action}", HttpStatusCode.NotFound);
        }

        // An invalid id is refused, and the audit trail keeps a bounded, escaped form of it: no line break, no direction override.
        var badId = "bad\nid\u202e" + new string('x', 300);
        await ExpectAsync(dashboard, $"{Uri.EscapeDataString(badId)}/suspend", HttpStatusCode.BadRequest);
        var badIdAudited = @"bad\nid\u202e" + new string('x', 121) + "... (307 characters)";

        // Release from quarantine: the session resumes and its turn finishes.
        await PostAsync(siloB, "act-poison", "work 6x300");
        await WaitForAsync(ledger, ["act-poison"], rows => rows[0].Phase == SessionPhase.Running, "act-poison runs", cluster);
        await ExpectAsync(dashboard, "act-poison/suspend", HttpStatusCode.OK, "suspended");
        await using (var quarantine = dataSource.CreateCommand(
            "UPDATE gateway_sessions SET phase = 'quarantined', last_error = 'quarantined by the test' WHERE session_id = 'act-poison' AND phase = 'suspended'"))
        {
            Assert.Equal(1, await quarantine.ExecuteNonQueryAsync());
        }

        await ExpectAsync(dashboard, "act-poison/resume", HttpStatusCode.Conflict);
        await ExpectAsync(dashboard, "act-poison/release", HttpStatusCode.OK);
        await WaitForAsync(ledger, ["act-poison"], rows => rows[0].Phase == SessionPhase.Idle, "act-poison finishes", cluster);
        var released = (await dashboard.GetJsonAsync(DashboardHarness.SessionPath("act-poison"))).GetProperty("session");
        Assert.Equal("done 6 steps", released.GetProperty("turns")[0].GetProperty("reply").GetString());

        var sessionAudit = await dashboard.AuditAsync();
        Assert.Equal(
            ["act-1 suspend alice", "act-1 resume operator", "act-1 resume operator", "act-1 release operator",
             "ghost resume operator", "ghost suspend operator", "ghost release operator", $"{badIdAudited} suspend operator",
             "act-poison suspend operator", "act-poison resume operator", "act-poison release operator"],
            sessionAudit.Select(e => $"{e.SessionId} {e.Detail.Split(':')[0]} {e.Actor}"));
        Assert.Equal("suspend: suspended (was running)", sessionAudit[0].Detail);
        Assert.Equal("resume: session act-1 is running; there is nothing to resume", sessionAudit[2].Detail);
        Assert.Equal("release: session ghost does not exist", sessionAudit[6].Detail);
        Assert.StartsWith("suspend: sessionId must be", sessionAudit[7].Detail);
        Assert.DoesNotContain(badId[..10], dashboard.Log());
        Assert.Contains(badIdAudited, dashboard.Log());

        // Drain A: it exits 0, its sessions were premarked shutdown_timeout and go on on B.
        var (drainStatus, drainReport) = await dashboard.PostAsync($"api/operator/silos/{Uri.EscapeDataString(addressA)}/drain");
        Assert.True(drainStatus == HttpStatusCode.OK, $"drain: {(int)drainStatus} {drainReport}");
        Assert.Equal((addressA, "drain"), (drainReport.GetProperty("address").GetString(), drainReport.GetProperty("nextStop").GetString()));
        // A stopping silo takes no second request (it is still Active in the membership table while it drains):
        // 409, and it still stops as first asked.
        await ExpectRefusedAsync(dashboard, addressA, "restart", "is already stopping: an operator already asked it to drain");
        Assert.True(await siloA.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"A did not stop:\n{cluster.Logs()}");
        Assert.Equal(SiloExitCodes.Stopped, siloA.ExitCode);
        var onB = await WaitForAsync(ledger, onA, rows => rows.All(r => r.Phase == SessionPhase.Running && r.OwnerSilo != addressA),
            "A's sessions resumed on B", cluster, TimeSpan.FromSeconds(60));
        Assert.All(onB, r => Assert.Equal(ResumeReasons.ShutdownTimeout, r.ResumeReason));
        var addressB = Assert.Single(onB.Select(r => r.OwnerSilo).Distinct())!;
        await ExpectAsync(dashboard, $"api/operator/silos/{Uri.EscapeDataString(addressA)}/drain", HttpStatusCode.NotFound, rawPath: true);

        // Restart B, the last silo: it exits 75 for its supervisor, and its sessions wait, premarked restart_timeout.
        var (restartStatus, restartReport) = await dashboard.PostAsync($"api/operator/silos/{Uri.EscapeDataString(addressB)}/restart", DashboardHarness.AliceToken);
        Assert.True(restartStatus == HttpStatusCode.OK, $"restart: {(int)restartStatus} {restartReport}");
        Assert.Equal("restart", restartReport.GetProperty("nextStop").GetString());
        await ExpectRefusedAsync(dashboard, addressB, "drain", "is already stopping: an operator already asked it to restart", DashboardHarness.AliceToken);
        await ExpectRefusedAsync(dashboard, addressB, "restart", "is already stopping: an operator already asked it to restart");
        Assert.True(await siloB.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"B did not stop:\n{cluster.Logs()}");
        Assert.Equal(SiloExitCodes.RestartRequested, siloB.ExitCode);
        var waiting = await ledger.GetManyAsync([.. onA, "act-1"]);
        Assert.All(waiting, r => Assert.Equal((SessionPhase.ResumePending, ResumeReasons.RestartTimeout), (r.Phase, r.ResumeReason)));

        var siloAudit = (await dashboard.AuditAsync()).Where(e => e.Silo is not null).ToList();
        Assert.Equal(
            [$"{addressA} drain operator", $"{addressA} restart operator", $"{addressA} drain operator",
             $"{addressB} restart alice", $"{addressB} drain alice", $"{addressB} restart operator"],
            siloAudit.Select(e => $"{e.Silo} {e.Detail.Split(':')[0]} {e.Actor}"));
        Assert.Contains("premarked shutdown_timeout", siloAudit[0].Detail);
        Assert.Contains($"({addressA}) is already stopping: an operator already asked it to drain", siloAudit[1].Detail);
        Assert.Contains("not an active silo", siloAudit[2].Detail);
        Assert.Contains("premarked restart_timeout", siloAudit[3].Detail);
        Assert.All(siloAudit[4..], e => Assert.Contains($"({addressB}) is already stopping: an operator already asked it to restart", e.Detail));

        // The dashboard outlives its cluster: no silo is left, and it still lists them, with A and B gone.
        var silos = (await dashboard.GetJsonAsync("api/operator/silos")).EnumerateArray().ToList();
        Assert.All(silos, s => Assert.False(s.GetProperty("reachable").GetBoolean()));
        Assert.Contains(silos, s => s.GetProperty("address").GetString() == addressA && s.GetProperty("status").GetString() == "Dead");

        // ...and reconnects when a silo comes back: the waiting sessions resume there, and actions work again.
        var siloC = await cluster.StartSiloAsync("c", QuickStops);
        await dashboard.Process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        await WaitForAsync(ledger, onA, rows => rows.All(r => r.Phase == SessionPhase.Running), "B's sessions resumed on C", cluster, TimeSpan.FromSeconds(60));
        await ExpectAsync(dashboard, "act-1/suspend", HttpStatusCode.OK, "suspended");

        // A silo killed a moment ago is still Active in the membership table: the dashboard does not wait for its answer,
        // it shows the silo unreachable and the session without its turns, within seconds, and no error.
        siloC.Kill();
        Assert.True(await siloC.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var afterKill = (await dashboard.GetJsonAsync("api/operator/silos")).EnumerateArray().ToList();
        var killedDetail = (await dashboard.GetJsonAsync(DashboardHarness.SessionPath("drain-1"))).GetProperty("session");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the silos and a session took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.All(afterKill, s => Assert.False(s.GetProperty("reachable").GetBoolean()));
        Assert.Equal("running", killedDetail.GetProperty("phase").GetString());
        Assert.False(string.IsNullOrEmpty(killedDetail.GetProperty("turnsUnavailable").GetString()));
    }

    private static async Task PostAsync(SiloProcess silo, string sessionId, string text)
    {
        using var response = await SiloProcessCluster.PostMessageAsync(silo, sessionId, new { text, messageId = "m1" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>POSTs a session action (or, with <paramref name="rawPath"/>, any path) and checks the status and the phase it reports.</summary>
    private static async Task ExpectAsync(DashboardHarness dashboard, string action, HttpStatusCode expected, string? phase = null,
        string token = DashboardHarness.OperatorToken, bool rawPath = false)
    {
        var path = rawPath ? action : $"api/operator/sessions/{action}";
        var (status, body) = await dashboard.PostAsync(path, token);
        Assert.True(status == expected, $"POST {path}: {(int)status} {body}");
        if (expected == HttpStatusCode.OK)
        {
            Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
            if (phase is not null)
            {
                Assert.Equal(phase, body.GetProperty("phase").GetString());
            }
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()), $"POST {path}: {body}");
        }
    }

    /// <summary>A drain or restart of a silo that is stopping: 409, with the silo's reason.</summary>
    private static async Task ExpectRefusedAsync(DashboardHarness dashboard, string address, string action, string reason,
        string token = DashboardHarness.OperatorToken)
    {
        var path = $"api/operator/silos/{Uri.EscapeDataString(address)}/{action}";
        var (status, body) = await dashboard.PostAsync(path, token);
        Assert.True(status == HttpStatusCode.Conflict, $"POST {path}: {(int)status} {body}");
        Assert.Contains(reason, body.GetProperty("error").GetString());
    }

    private static async Task<IReadOnlyList<LedgerRow>> WaitForAsync(SessionQueries ledger, IReadOnlyList<string> ids, Func<IReadOnlyList<LedgerRow>, bool> condition,
        string what, SiloProcessCluster cluster, TimeSpan? timeout = null)
    {
        IReadOnlyList<LedgerRow> rows = [];
        await Eventually.UntilAsync(async () =>
            {
                var found = await ledger.GetManyAsync(ids);
                rows = [.. ids.Select(id => found.FirstOrDefault(r => r.SessionId == id)).OfType<LedgerRow>()];
                return rows.Count == ids.Count && condition(rows);
            },
            timeout ?? TimeSpan.FromSeconds(30),
            () => $"{what}: {string.Join("; ", rows.Select(r => $"{r.SessionId} {r.Phase} {r.ResumeReason} on {r.OwnerSilo}"))}\n{cluster.Logs()}");
        return rows;
    }
}
