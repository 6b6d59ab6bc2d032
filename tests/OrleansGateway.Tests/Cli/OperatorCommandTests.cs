using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

/// <summary>
/// The operator commands (<c>ogw status</c>, <c>sessions</c>, <c>session</c>, <c>resume</c>, <c>suspend</c>, <c>release</c>,
/// <c>drain</c>, <c>restart</c>) as a user runs them: the real <c>ogw</c> program in a process of its own, against the real
/// dashboard in front of real silo processes and a real PostgreSQL (<see cref="OperatorCluster"/>, shared by the facts).
/// What a command did is checked where it happened: in the ledger, in the audit trail, in the exit code of a silo process.
/// </summary>
/// <remarks>
/// The facts share one cluster and run one after the other in any order; each leaves no turn running, so that the counts
/// the status shows are the ledger's (read with SQL here) whichever fact ran before.
/// </remarks>
[Collection(PostgresCollection.Name)]
public sealed partial class OperatorCommandTests(OperatorCluster cluster) : IClassFixture<OperatorCluster>
{
    private const string Seeded = OperatorCluster.SeededSilo;

    [Fact]
    public async Task Status_shows_the_silos_with_their_version_and_the_sessions_by_phase_with_the_token_of_the_environment()
    {
        // OGW_URL and OGW_OPERATOR_TOKEN, no options.
        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), "status");
        var counts = await cluster.CountsAsync();

        Assert.True(exitCode == 0, output);
        Assert.Matches($@"{Regex.Escape(cluster.MainAddress)}\W+\S+\W+Active\W+no\W+\d+\W+\d+\W+{Regex.Escape(OperatorCluster.Version)}\W*$", Line(output, cluster.MainAddress));
        Assert.DoesNotContain("the silo did not answer", output);
        Assert.Equal(4, counts["stale"]);
        foreach (var (phase, count) in counts)
        {
            Assert.Matches(new Regex($@"^\W*{phase}\W+{count}\W*$", RegexOptions.Multiline), output);
        }
    }

    [Fact]
    public async Task Status_json_has_the_silos_and_the_counts_of_the_ledger()
    {
        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), "status", "--json");
        var counts = await cluster.CountsAsync();

        Assert.True(exitCode == 0, output);
        var document = JsonNode.Parse(output)!;
        var silos = document["silos"]!.AsArray().Select(s => s!).ToList();
        var main = Assert.Single(silos, s => (string?)s["address"] == cluster.MainAddress);
        Assert.Equal($"Active reachable:true draining:false {OperatorCluster.Version}",
            $"{main["status"]} reachable:{main["reachable"]} draining:{main["draining"]} {main["version"]}");
        Assert.True((int?)main["activeSessions"] >= 0 && (int?)main["runningTurns"] >= 0, main.ToJsonString());
        Assert.False(string.IsNullOrEmpty((string?)main["name"]));
        // The silos the drain and restart facts stop are Dead once they ran, Active before: never half known. A dead silo's
        // version is the one it registered.
        Assert.All(silos, s => Assert.True(
            (string?)s["status"] == "Active" && (bool?)s["reachable"] == true && (string?)s["version"] == OperatorCluster.Version
            || (string?)s["status"] == "Dead" && (bool?)s["reachable"] == false && (string?)s["version"] == OperatorCluster.Version, s.ToJsonString()));
        Assert.Equal(Sorted(counts), Sorted(document["counts"].Deserialize<Dictionary<string, long>>()!));
    }

    [Fact]
    public async Task Sessions_sends_the_filters_as_query_shows_one_page_and_the_cursor_of_the_next()
    {
        var (firstExit, first) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", Seeded, "--stale", "--limit", "2");
        var counts = await cluster.CountsAsync();

        Assert.True(firstExit == 0, first);
        Assert.Equal(["cli-stale-1", "cli-stale-2"], SessionIds(first));
        Assert.Matches(@"resume_pending\W+restart_timeout\W+10\.0\.0\.9:11111@1\W+0\W+stale\W+[\d: -]+\W+2h 0\dm\W+agent step threw", Line(first, "cli-stale-1"));
        Assert.Contains("More sessions: add --after cli-stale-2 (or --all for every page).", first);
        Assert.Contains($"All sessions: {string.Join(", ", OperatorCluster.CountNames.Select(name => $"{name} {counts[name]}"))}", first);

        var (nextExit, next) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", Seeded, "--stale", "--limit", "2", "--after", "cli-stale-2");
        Assert.True(nextExit == 0, next);
        Assert.Equal(["cli-stale-3"], SessionIds(next));
        Assert.DoesNotContain("--after", next);

        var (phaseExit, quarantined) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--phase", "quarantined", "--silo", Seeded);
        Assert.True(phaseExit == 0, quarantined);
        Assert.Equal(["cli-poison-1"], SessionIds(quarantined));
        Assert.Contains("quarantined after 3 resumes", Line(quarantined, "cli-poison-1"));

        var (noneExit, none) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--phase", "running", "--silo", Seeded);
        Assert.True(noneExit == 0, none);
        Assert.Equal("No sessions match.", none.Split('\n')[0]);
    }

    [Fact]
    public async Task Sessions_all_follows_the_cursor_to_the_last_page_and_json_is_the_api_s_page_or_every_session()
    {
        string[] ofSeededSilo = ["cli-idle-1", "cli-idle-2", "cli-poison-1", "cli-stale-1", "cli-stale-2", "cli-stale-3"];

        // Pages of two: all six only if ogw asked for the next page twice.
        var (allExit, all) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", Seeded, "--all", "--limit", "2");
        Assert.True(allExit == 0, all);
        Assert.Equal(ofSeededSilo, SessionIds(all));
        Assert.DoesNotContain("--after", all);

        var (pageExit, page) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", Seeded, "--json", "--limit", "2");
        var counts = await cluster.CountsAsync();
        Assert.True(pageExit == 0, page);
        var onePage = JsonNode.Parse(page)!;
        Assert.Equal(ofSeededSilo[..2], onePage["sessions"]!.AsArray().Select(s => (string)s!["sessionId"]!));
        Assert.Equal("cli-idle-2", (string?)onePage["next"]);
        Assert.Equal(Sorted(counts), Sorted(onePage["counts"].Deserialize<Dictionary<string, long>>()!));
        var idle = onePage["sessions"]![0]!;
        Assert.Equal($"idle reason: owner:{Seeded} stale:false", $"{idle["phase"]} reason:{idle["resumeReason"]} owner:{idle["ownerSilo"]} stale:{idle["stale"]}");

        var (everyExit, every) = await OgwProcess.RunAsync(cluster.Environment(), "sessions", "--silo", Seeded, "--json", "--all", "--limit", "4");
        Assert.True(everyExit == 0, every);
        var document = JsonNode.Parse(every)!;
        Assert.Equal(ofSeededSilo, document["sessions"]!.AsArray().Select(s => (string)s!["sessionId"]!));
        Assert.Null(document["next"]);
        Assert.Equal(Sorted(counts), Sorted(document["counts"].Deserialize<Dictionary<string, long>>()!));
        var stale = document["sessions"]![3]!;
        Assert.Equal("resume_pending reason:restart_timeout stale:true error:agent step threw",
            $"{stale["phase"]} reason:{stale["resumeReason"]} stale:{stale["stale"]} error:{stale["lastError"]}");
    }

    [Fact]
    public async Task Session_shows_the_session_its_turns_and_its_history()
    {
        const string id = "cli-detail";
        await cluster.PostAsync(id, "work 3x50");
        await cluster.WaitForPhaseAsync(id, SessionPhase.Idle);
        var (suspendExit, suspended) = await OgwProcess.RunAsync(cluster.Environment(), "suspend", id);
        Assert.True(suspendExit == 0, suspended);
        var row = (await cluster.Ledger.GetAsync(id))!;

        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), "session", id, "--url", cluster.Url, "--token", DashboardHarness.OperatorToken);

        Assert.True(exitCode == 0, output);
        Assert.Contains("suspended", Line(output, "Phase"));
        Assert.Matches($@"Epoch\s+{row.Epoch}\s*$", Line(output, "Epoch"));
        Assert.Matches(@"Active turn\s+-\s*$", Line(output, "Active turn"));
        Assert.Matches(@"t1\W+m1\W+completed\W+3/3\W+1\W+done 3 steps", Line(output, "done 3 steps"));
        Assert.Matches(@"\d\d:\d\d:\d\d\W+operator_action\W+operator\W+suspend: suspended \(was idle\)", Line(output, "operator_action"));
        Assert.Matches(new Regex(@"^\W*[\d-]+ \d\d:\d\d:\d\d\W+suspended\W+\S+\W+was idle\W*$", RegexOptions.Multiline), output);

        var (jsonExit, json) = await OgwProcess.RunAsync(cluster.Environment(), "session", id, "--json");
        Assert.True(jsonExit == 0, json);
        var document = JsonNode.Parse(json)!;
        var session = document["session"]!;
        Assert.Equal($"{id} suspended epoch:{row.Epoch} activeTurn: unavailable:", $"{session["sessionId"]} {session["phase"]} epoch:{session["epoch"]} activeTurn:{session["activeTurnId"]} unavailable:{session["turnsUnavailable"]}");
        var turn = Assert.Single(session["turns"]!.AsArray())!;
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"turnId":"t1","messageId":"m1","status":"completed","stepsDone":3,"stepsTotal":3,"executions":1,"reply":"done 3 steps","error":null,"usage":null}"""), turn), turn.ToJsonString());
        // Newest first: the audit of the action comes after the grain's own event.
        Assert.Equal(["operator_action operator suspend: suspended (was idle)", "suspended  was idle"],
            document["history"]!.AsArray().Select(e => $"{(string?)e!["kind"]} {(string?)e["actor"]} {(string?)e["detail"]}"));
    }

    [Fact]
    public async Task Session_shows_the_newest_turns_and_pages_back_with_before()
    {
        const string id = "cli-history";
        foreach (var number in Enumerable.Range(1, 5))
        {
            using var posted = await SiloProcessCluster.PostMessageAsync(cluster.Main, id, new { text = $"hello {number}", messageId = $"m{number}" });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, posted.StatusCode);
        }

        await cluster.WaitForPhaseAsync(id, SessionPhase.Idle);

        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), "session", id, "--turns", "2");
        Assert.True(exitCode == 0, output);
        Assert.Contains("Turns t4-t5 of 5", output);
        Assert.Matches(@"t5\W+m5\W+completed\W+1/1\W+1\W+hello 5", Line(output, "hello 5"));
        Assert.DoesNotContain("hello 3", output);
        Assert.Contains("Older turns: add --before t4.", output);

        var (olderExit, older) = await OgwProcess.RunAsync(cluster.Environment(), "session", id, "--before", "t4", "--turns", "2");
        Assert.True(olderExit == 0, older);
        Assert.Contains("Turns t2-t3 of 5", older);
        Assert.True(older.IndexOf("hello 2", StringComparison.Ordinal) < older.IndexOf("hello 3", StringComparison.Ordinal), older);
        Assert.Contains("Older turns: add --before t2.", older);

        var (lastExit, last) = await OgwProcess.RunAsync(cluster.Environment(), "session", id, "--before", "t2", "--json");
        Assert.True(lastExit == 0, last);
        var page = JsonNode.Parse(last)!;
        Assert.Equal($"{id} 5 t1 ", $"{page["sessionId"]} {page["turnCount"]} {page["turns"]![0]!["turnId"]} {page["before"]}");
    }

    [Fact]
    public async Task Suspend_and_resume_change_a_running_session_and_say_what_became_of_it_or_why_not()
    {
        const string id = "cli-act";
        await cluster.PostAsync(id, "work 40x500");
        await cluster.WaitForPhaseAsync(id, SessionPhase.Running);

        Assert.Equal((0, $"Session {id} is suspended: suspended (was running)"), await OneLineAsync("suspend", id));
        Assert.Equal(SessionPhase.Suspended, (await cluster.Ledger.GetAsync(id))!.Phase);
        Assert.Equal((0, $"Session {id} is suspended: already suspended"), await OneLineAsync("suspend", id));
        Assert.Equal((ExitCodes.Failed, $"ogw: session {id} is suspended, not quarantined"), await OneLineAsync("release", id));

        var (resumeExit, resumed) = await OneLineAsync("resume", id);
        Assert.Equal(0, resumeExit);
        Assert.Matches($@"^Session {id} is running: resumed; turn t1 continues from step \d+$", resumed);
        Assert.Equal(SessionPhase.Running, (await cluster.Ledger.GetAsync(id))!.Phase);
        Assert.Equal((ExitCodes.Failed, $"ogw: session {id} is running; there is nothing to resume"), await OneLineAsync("resume", id));
        Assert.Equal((ExitCodes.Failed, $"ogw: session {id} is running, not quarantined"), await OneLineAsync("release", id));

        // Suspended again, with the API's answer as it came: nothing keeps running after this fact.
        var (jsonExit, json) = await OgwProcess.RunAsync(cluster.Environment(), "suspend", id, "--json");
        Assert.True(jsonExit == 0, json);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"sessionId":"{{id}}","phase":"suspended","message":"suspended (was running)"}"""), JsonNode.Parse(json)), json);
        Assert.Equal(SessionPhase.Suspended, (await cluster.Ledger.GetAsync(id))!.Phase);

        // Every action, done or refused, is audited with the name of ogw's token.
        Assert.Equal(
            ["suspend operator", "suspend operator", "release operator", "resume operator", "resume operator", "release operator", "suspend operator"],
            (await cluster.Dashboard.AuditAsync()).Where(e => e.SessionId == id).Select(e => $"{e.Detail.Split(':')[0]} {e.Actor}"));
    }

    [Fact]
    public async Task Release_resumes_a_quarantined_session_that_resume_refuses()
    {
        const string id = "cli-poison";
        await cluster.PostAsync(id, "work 16x300");
        await cluster.WaitForPhaseAsync(id, SessionPhase.Running);
        Assert.Equal((0, $"Session {id} is suspended: suspended (was running)"), await OneLineAsync("suspend", id));
        await cluster.ExecuteAsync($"UPDATE gateway_sessions SET phase = 'quarantined', last_error = 'quarantined by the test' WHERE session_id = '{id}' AND phase = 'suspended'", expectedRows: 1);

        Assert.Equal((ExitCodes.Failed, $"ogw: session {id} is quarantined; release it instead"), await OneLineAsync("resume", id));
        Assert.Equal(SessionPhase.Quarantined, (await cluster.Ledger.GetAsync(id))!.Phase);
        Assert.Equal((0, $"Session {id} is running: released and resumed"), await OneLineAsync("release", id));

        // The interrupted turn goes on from its checkpoint to its end.
        await cluster.WaitForPhaseAsync(id, SessionPhase.Idle);
        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), "session", id);
        Assert.True(exitCode == 0, output);
        Assert.Matches(@"t1\W+m1\W+completed\W+16/16\W+2\W+done 16 steps", Line(output, "done 16 steps"));
        Assert.Matches(@"released\W+\S+\W+after 0 attempts: quarantined by the test", Line(output, "after 0 attempts"));
    }

    [Theory]
    [InlineData("ogw: session ghost does not exist", "session", "ghost")]
    [InlineData("ogw: session ghost does not exist", "resume", "ghost")]
    [InlineData("ogw: session ghost does not exist", "suspend", "ghost")]
    [InlineData("ogw: session ghost does not exist", "release", "ghost")]
    [InlineData("ogw: 127.0.0.1:1@1 is not an active silo of cluster {cluster}", "drain", "127.0.0.1:1@1")]
    [InlineData("ogw: 127.0.0.1:1@1 is not an active silo of cluster {cluster}", "restart", "127.0.0.1:1@1")]
    public async Task Something_that_does_not_exist_is_one_line_with_the_dashboard_s_reason(string expected, params string[] command)
    {
        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), command);

        Assert.Equal(ExitCodes.Failed, exitCode);
        Assert.Equal(expected.Replace("{cluster}", cluster.ClusterId), OneLine(output));
        Assert.Null(await cluster.Ledger.GetAsync("ghost"));
    }

    [Theory]
    [InlineData("drain", "drains and stops; its sessions resume on the other silos.", SiloExitCodes.Stopped)]
    [InlineData("restart", "restarts: it drains, then exits for its supervisor to start it again.", SiloExitCodes.RestartRequested)]
    public async Task A_silo_action_stops_the_silo_process_with_the_exit_code_of_its_kind(string action, string says, int exitCodeOfSilo)
    {
        var (silo, address) = action == "drain" ? (cluster.ToDrain, cluster.ToDrainAddress) : (cluster.ToRestart, cluster.ToRestartAddress);

        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), action, address);

        Assert.True(exitCode == 0, output);
        Assert.Equal($"Silo {address} {says}", output.Split('\n')[0]);
        // What the silo says of itself as it takes the request: draining from that moment, active until its host stops.
        Assert.Matches(@"^Active\s+(yes|no)\s*$", Line(output, "Active"));
        Assert.Matches(@"^Draining\s+yes\s*$", Line(output, "Draining"));
        Assert.Matches(@"^Running turns\s+\d+\s*$", Line(output, "Running turns"));
        Assert.Matches($@"^Version\s+{Regex.Escape(OperatorCluster.Version)}\s*$", Line(output, "Version"));
        Assert.Matches($@"^Next stop\s+{action}\s*$", Line(output, "Next stop"));
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"the silo did not stop:\n{silo.ReadLog()}");
        Assert.Equal(exitCodeOfSilo, silo.ExitCode);

        // Gone from the cluster: the status shows it dead, and asks it nothing.
        await cluster.WaitForSiloStatusAsync(address, "Dead");
        var (statusExit, status) = await OgwProcess.RunAsync(cluster.Environment(), "status");
        Assert.True(statusExit == 0, status);
        Assert.Matches($@"Dead\W+-\W+-\W+-\W+{Regex.Escape(OperatorCluster.Version)}\W*$", Line(status, address));
    }

    [Fact]
    public async Task A_refused_token_is_one_line_with_the_dashboard_s_reason_and_changes_nothing()
    {
        var environment = cluster.Environment(token: "not-the-token");
        var audited = (await cluster.Dashboard.AuditAsync()).Count;

        foreach (var command in new[] { new[] { "status" }, ["sessions"], ["session", "cli-stale-1"], ["resume", "cli-stale-1"], ["drain", cluster.MainAddress] })
        {
            var (exitCode, output) = await OgwProcess.RunAsync(environment, command);

            Assert.Equal(ExitCodes.Failed, exitCode);
            Assert.Equal($"ogw: the dashboard at {cluster.Url} refused the operator token (401: the operator token is not valid); " +
                "check --token, --token-file, OGW_OPERATOR_TOKEN or OGW_OPERATOR_TOKEN_FILE", OneLine(output));
        }

        Assert.Equal(audited, (await cluster.Dashboard.AuditAsync()).Count);
        Assert.Equal(SessionPhase.ResumePending, (await cluster.Ledger.GetAsync("cli-stale-1"))!.Phase);
        Assert.False(cluster.Main.HasExited);
    }

    [Theory]
    [InlineData("ogw: --phase 'paused' is not a phase (idle, running, resume_pending, suspended, quarantined)", "sessions", "--phase", "paused")]
    [InlineData("ogw: --limit must be between 1 and 500", "sessions", "--limit", "0")]
    [InlineData("ogw: --limit must be between 1 and 500", "sessions", "--limit", "501")]
    [InlineData("ogw: --limit 'ten' is not a number", "sessions", "--limit", "ten")]
    [InlineData("ogw: 'a/b' is not a session id", "session", "a/b")]
    [InlineData("ogw: --turns must be between 0 and 500", "session", "s1", "--turns", "501")]
    [InlineData("ogw: --turns must be between 1 and 500 with --before", "session", "s1", "--before", "t9", "--turns", "0")]
    [InlineData("ogw: --turns 'all' is not a number", "session", "s1", "--turns", "all")]
    [InlineData("ogw: --before '9' is not a turn id", "session", "s1", "--before", "9")]
    [InlineData("ogw: 'x y' is not a session id", "resume", "x y")]
    [InlineData("ogw: '127.0.0.1:11111' is not a silo address", "drain", "127.0.0.1:11111")]
    [InlineData("ogw: --url 'localhost' is not an http:// or https:// URL", "status", "--url", "localhost")]
    [InlineData("ogw: no operator token: pass --token or --token-file, or set OGW_OPERATOR_TOKEN or OGW_OPERATOR_TOKEN_FILE", "status", "--token", "")]
    [InlineData("ogw: --silo '127.0.0.1:11111' is not a silo address: ip:port@generation", "sessions", "--silo", "127.0.0.1:11111")]
    [InlineData("ogw: --silo 'silo1' is not a silo address", "sessions", "--silo", "silo1")]
    [InlineData("ogw: --silo '127.0.0.1:70000@1' is not a silo address", "sessions", "--silo", "127.0.0.1:70000@1")]
    [InlineData("ogw: --token and --token-file both name the operator token: pass one", "status", "--token", "t", "--token-file", "/etc/hostname")]
    [InlineData("ogw: cannot read the operator token from --token-file '/nonexistent/token': ", "status", "--token-file", "/nonexistent/token")]
    [InlineData("ogw: Unrecognized command or argument '--bogus'", "sessions", "--bogus")]
    public async Task A_bad_option_is_one_line_before_any_request(string expected, params string[] command)
    {
        // Nothing listens at OGW_URL: had ogw sent a request, it would say that it cannot reach the dashboard.
        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(url: UnreachableUrl()), command);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.StartsWith(expected, OneLine(output));
    }

    [Fact]
    public async Task A_missing_token_is_refused_before_any_request()
    {
        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(url: UnreachableUrl(), token: ""), "sessions");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal("ogw: no operator token: pass --token or --token-file, or set OGW_OPERATOR_TOKEN or OGW_OPERATOR_TOKEN_FILE", OneLine(output));
    }

    [Fact]
    public async Task An_unreachable_dashboard_is_one_line_with_its_url_and_how_to_start_one()
    {
        var url = UnreachableUrl();

        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(url: url), "sessions");

        Assert.Equal(ExitCodes.Unavailable, exitCode);
        var line = OneLine(output);
        Assert.StartsWith($"ogw: cannot reach the dashboard at {url} (", line);
        Assert.EndsWith("); `ogw up` starts one, --url or OGW_URL names another", line);
    }

    [Fact]
    public async Task An_answer_of_another_shape_than_the_contract_is_one_line_not_a_table_of_blanks()
    {
        // The real dashboard keeps the contract; only a fake can break it.
        await using var server = await MisbehavingDashboard.StartAsync();

        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(url: server.Url), "session", "garbled");

        Assert.Equal(ExitCodes.Failed, exitCode);
        var line = OneLine(output);
        Assert.StartsWith($"ogw: the dashboard at {server.Url} answered GET /api/operator/sessions/garbled with 200 and a document ogw cannot read: ", line);
        Assert.Contains("phase", line);
    }

    private async Task<(int ExitCode, string Line)> OneLineAsync(params string[] command)
    {
        var (exitCode, output) = await OgwProcess.RunAsync(cluster.Environment(), command);
        return (exitCode, OneLine(output));
    }

    private static string UnreachableUrl() => $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}/";

    /// <summary>The one line of output (stdout and stderr) an error must be.</summary>
    private static string OneLine(string output) => Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The first line of a table that contains <paramref name="text"/>.</summary>
    private static string Line(string output, string text) =>
        output.Split('\n').FirstOrDefault(line => line.Contains(text, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no line with \"{text}\" in:\n{output}");

    /// <summary>The session ids of a <c>sessions</c> table, in its order.</summary>
    private static string[] SessionIds(string output) =>
        [.. output.Split('\n').Select(line => Regex.Match(line, @"^\W*(cli-[a-z0-9-]+)\W")).Where(m => m.Success).Select(m => m.Groups[1].Value)];

    private static string[] Sorted(IReadOnlyDictionary<string, long> counts) => [.. counts.Select(c => $"{c.Key}={c.Value}").Order(StringComparer.Ordinal)];
}

/// <summary>
/// One database, three silo processes and the dashboard in front of them, for the facts of <see cref="OperatorCommandTests"/>:
/// <see cref="Main"/> stays up; <see cref="ToDrain"/> and <see cref="ToRestart"/> are there to be stopped, once each. The
/// ledger has, besides what the facts make, rows written directly for the listings: owned by <see cref="SeededSilo"/>
/// (no such silo runs) two idle sessions, a quarantined one and three stale markers, and a stale marker of another
/// silo. Nothing resumes them: stale markers and quarantined sessions wait for an operator.
/// </summary>
public sealed class OperatorCluster(PostgresFixture postgres) : IAsyncLifetime
{
    public const string SeededSilo = "10.0.0.9:11111@1";
    private const string OtherSilo = "10.0.0.8:11111@1";

    /// <summary>The counts of a listing, in the order ogw shows them.</summary>
    public static readonly string[] CountNames = ["idle", "running", "resume_pending", "suspended", "quarantined", "stale"];

    // Short drains: an operator's stop ends within seconds.
    private static readonly Dictionary<string, string> QuickStops = new()
    {
        ["Gateway__Resume__DrainTimeout"] = "00:00:02",
        ["Gateway__Resume__InterruptGrace"] = "00:00:01",
    };

    private SiloProcessCluster? _cluster;
    private NpgsqlDataSource? _dataSource;

    /// <summary>What every silo of this build reports as its version.</summary>
    public static string Version { get; } = OrleansGateway.Upgrade.BuildVersion.Informational;

    public SiloProcess Main { get; private set; } = null!;

    public SiloProcess ToDrain { get; private set; } = null!;

    public SiloProcess ToRestart { get; private set; } = null!;

    public string MainAddress { get; private set; } = "";

    public string ToDrainAddress { get; private set; } = "";

    public string ToRestartAddress { get; private set; } = "";

    public DashboardHarness Dashboard { get; private set; } = null!;

    public string Url => Dashboard.BaseAddress.AbsoluteUri;

    public string ClusterId => _cluster!.ClusterId;

    public SessionQueries Ledger { get; private set; } = null!;

    /// <summary>The environment of an <c>ogw</c> run: this dashboard and its token unless told otherwise (empty: unset).</summary>
    public IReadOnlyDictionary<string, string> Environment(string? url = null, string token = DashboardHarness.OperatorToken) =>
        new Dictionary<string, string> { ["OGW_URL"] = url ?? Url, ["OGW_OPERATOR_TOKEN"] = token };

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("opcli");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        Ledger = new SessionQueries(_dataSource);
        await ExecuteAsync($"""
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, updated_at)
                 VALUES ('cli-idle-1', 'idle', '{SeededSilo}', now() - interval '5 minutes'),
                        ('cli-idle-2', 'idle', '{SeededSilo}', now() - interval '5 minutes');
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, last_error)
                 VALUES ('cli-poison-1', 'quarantined', '{SeededSilo}', 'quarantined after 3 resumes');
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, resume_reason, resume_marked_at, last_error)
                 VALUES ('cli-stale-1', 'resume_pending', '{SeededSilo}', 'restart_timeout', now() - interval '2 hours', 'agent step threw'),
                        ('cli-stale-2', 'resume_pending', '{SeededSilo}', 'restart_timeout', now() - interval '2 hours', NULL),
                        ('cli-stale-3', 'resume_pending', '{SeededSilo}', 'restart_timeout', now() - interval '2 hours', NULL),
                        ('cli-stale-other', 'resume_pending', '{OtherSilo}', 'shutdown_timeout', now() - interval '3 hours', NULL);
            """);

        _cluster = new SiloProcessCluster(connectionString);
        try
        {
            // Started together: on a small machine the three starts overlap their waits.
            Main = _cluster.Launch("main");
            ToDrain = _cluster.Launch("to-drain", QuickStops);
            ToRestart = _cluster.Launch("to-restart", QuickStops);
            await Task.WhenAll(new[] { Main, ToDrain, ToRestart }.Select(silo => silo.WaitUntilReadyAsync(SiloProcessCluster.ReadyTimeout)));
            Dashboard = await DashboardHarness.StartAsync(connectionString, _cluster.ClusterId, _cluster.LogDirectory);

            // Ready when the dashboard reaches every silo (its grain calls find them), not only the membership table.
            List<JsonElement> silos = [];
            await Eventually.UntilAsync(async () =>
                {
                    silos = [.. (await Dashboard.GetJsonAsync("api/operator/silos")).EnumerateArray()];
                    return new[] { Main, ToDrain, ToRestart }.All(silo => silos.Any(s =>
                        Listed(s).Contains($":{silo.Settings.SiloPort}@", StringComparison.Ordinal) && s.GetProperty("reachable").GetBoolean()));
                },
                TimeSpan.FromSeconds(60), () => $"the dashboard does not reach every silo: {string.Join(", ", silos)}\n{_cluster.Logs()}");
            MainAddress = AddressOf(Main);
            ToDrainAddress = AddressOf(ToDrain);
            ToRestartAddress = AddressOf(ToRestart);

            string AddressOf(SiloProcess silo) => silos.Select(Listed).Single(a => a.Contains($":{silo.Settings.SiloPort}@", StringComparison.Ordinal));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }

        static string Listed(JsonElement silo) => silo.GetProperty("address").GetString()!;
    }

    public async Task DisposeAsync()
    {
        if (Dashboard is not null)
        {
            await Dashboard.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }

    /// <summary>The counts a listing must show, straight from the ledger: sessions by phase, and stale markers (older than an hour).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountsAsync()
    {
        await using var command = _dataSource!.CreateCommand("""
            SELECT phase, count(*) FROM gateway_sessions GROUP BY phase
            UNION ALL
            SELECT 'stale', count(*) FROM gateway_sessions WHERE phase = 'resume_pending' AND resume_marked_at < now() - interval '1 hour'
            """);
        var counts = CountNames.ToDictionary(name => name, _ => 0L);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>Sends a message to the session through <see cref="Main"/>'s HTTP API.</summary>
    public async Task PostAsync(string sessionId, string text)
    {
        using var response = await SiloProcessCluster.PostMessageAsync(Main, sessionId, new { text, messageId = "m1" });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
    }

    public async Task WaitForPhaseAsync(string sessionId, SessionPhase phase)
    {
        LedgerRow? row = null;
        await Eventually.UntilAsync(async () => (row = await Ledger.GetAsync(sessionId))?.Phase == phase, TimeSpan.FromSeconds(30),
            () => $"{sessionId} is {row?.Phase.ToString() ?? "not in the ledger"}, not {phase}\n{_cluster!.Logs()}");
    }

    public async Task WaitForSiloStatusAsync(string address, string status)
    {
        var seen = "";
        await Eventually.UntilAsync(async () =>
            {
                var silo = (await Dashboard.GetJsonAsync("api/operator/silos")).EnumerateArray().FirstOrDefault(s => s.GetProperty("address").GetString() == address);
                seen = silo.ValueKind == JsonValueKind.Undefined ? "not listed" : silo.GetProperty("status").GetString()!;
                return seen == status;
            },
            TimeSpan.FromSeconds(30), () => $"silo {address} is {seen}, not {status}");
    }

    public async Task ExecuteAsync(string sql, int? expectedRows = null)
    {
        await using var command = _dataSource!.CreateCommand(sql);
        var rows = await command.ExecuteNonQueryAsync();
        if (expectedRows is { } expected)
        {
            Assert.Equal(expected, rows);
        }
    }
}

/// <summary>
/// A FAKE of a misbehaving dashboard, for the one case the real one cannot play: an answer of another shape than the
/// operator API's contract (as a dashboard of another version might send). A real HTTP server on a free loopback port
/// that answers <c>GET /api/operator/sessions/garbled</c> with a session that lacks its fields, whatever the token,
/// <c>GET /api/operator/silos</c> with 503 (as a proxy in front of a dashboard that is down), <c>GET /api/operator/sessions</c>
/// with 500, and 404 to anything else.
/// </summary>
public sealed class MisbehavingDashboard : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MisbehavingDashboard(WebApplication app) => _app = app;

    public string Url => _app.Urls.Single().TrimEnd('/') + "/";

    public static async Task<MisbehavingDashboard> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/api/operator/sessions/garbled", () => Results.Text("""{"session":{"sessionId":"garbled"},"history":[]}""", "application/json"));
        app.MapGet("/api/operator/silos", () => Results.Problem("the dashboard is restarting", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/api/operator/sessions", () => Results.Problem("a bug", statusCode: StatusCodes.Status500InternalServerError));
        await app.StartAsync();
        return new MisbehavingDashboard(app);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
