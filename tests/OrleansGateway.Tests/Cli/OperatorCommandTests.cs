using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

/// <summary>
/// The operator commands (<c>ogw status</c>, <c>sessions</c>, <c>session</c>, <c>resume</c>, <c>suspend</c>, <c>release</c>,
/// <c>drain</c>, <c>restart</c>) as a user runs them: the real <c>ogw</c> program in a process of its own, against
/// <see cref="OperatorApiStandIn"/>, a real HTTP server in this test process that answers the operator API contract
/// with canned documents and records every request.
/// </summary>
/// <remarks>
/// NOT YET END-TO-END: the dashboard (<c>src/OrleansGateway.Dashboard</c>, which serves the operator API in front of a
/// real cluster) is built on another branch. A test of these commands against the real dashboard and a real cluster
/// comes when the branches meet (the lead merges them); until then the stand-in is the contract.
/// </remarks>
public sealed class OperatorCommandTests(OperatorApiStandIn api) : IClassFixture<OperatorApiStandIn>
{
    private const string Silo1 = OperatorApiStandIn.Silo1;

    [Fact]
    public async Task Status_shows_the_silos_and_the_sessions_by_phase_with_the_token_of_the_environment()
    {
        // OGW_URL and OGW_OPERATOR_TOKEN, no options.
        var (exitCode, output) = await RunAsync(api.Environment(), "status");

        Assert.True(exitCode == 0, output);
        Assert.Contains(Silo1, Line(output, "silo1"));
        Assert.Contains("Active", Line(output, "silo1"));
        Assert.Contains("1.4.0+8c1f2e0", Line(output, "silo1"));
        Assert.Matches(@"\b12\b.*\b3\b", Line(output, "silo1"));
        // The silo that does not answer has unknowns, and a note says why.
        Assert.Contains("ShuttingDown", Line(output, "silo2"));
        Assert.Contains("?", Line(output, "silo2"));
        Assert.Contains("the silo did not answer", output);
        // A dead silo is not asked: dashes, not unknowns.
        Assert.Contains("Dead", Line(output, "silo3"));
        Assert.DoesNotContain("?", Line(output, "silo3"));
        Assert.Matches(@"Dead\W+-\W+-\W+-\W+-", Line(output, "silo3"));
        Assert.Matches(@"\bresume_pending\b\D+\b7\b", Line(output, "resume_pending"));
        Assert.Matches(@"\bquarantined\b\D+\b1\b", Line(output, "quarantined"));
        Assert.Matches(@"\bstale\b\D+\b2\b", Line(output, "stale"));

        var requests = api.Requests();
        Assert.Equal(["GET /api/operator/silos", "GET /api/operator/sessions?limit=1"], requests.Select(r => r.ToString()));
        Assert.All(requests, r => Assert.Equal($"Bearer {OperatorApiStandIn.Token}", r.Authorization));
    }

    [Fact]
    public async Task Status_json_has_the_silos_and_the_counts_as_the_api_sent_them()
    {
        var (exitCode, output) = await RunAsync(api.Environment(), "status", "--json");

        Assert.True(exitCode == 0, output);
        var document = JsonNode.Parse(output)!;
        Assert.True(JsonNode.DeepEquals(OperatorApiStandIn.Silos, document["silos"]), output);
        Assert.True(JsonNode.DeepEquals(OperatorApiStandIn.Counts, document["counts"]), output);
    }

    [Fact]
    public async Task Sessions_shows_one_page_with_the_filters_as_query_and_the_cursor_of_the_next()
    {
        var (exitCode, output) = await RunAsync(api.Environment(), "sessions", "--phase", "resume_pending", "--silo", Silo1, "--stale", "--limit", "2");

        Assert.True(exitCode == 0, output);
        Assert.Contains("resume_pending", Line(output, "s-001"));
        Assert.Contains("restart_timeout", Line(output, "s-001"));
        Assert.Contains("stale", Line(output, "s-002"));
        Assert.Contains("1h 01m", Line(output, "s-002"));
        Assert.Contains("agent step threw", Line(output, "s-002"));
        Assert.DoesNotContain("s-003", output);
        Assert.Contains("--after s-002", output);
        Assert.Contains("resume_pending 7", output);

        var request = Assert.Single(api.Requests());
        Assert.Equal($"GET /api/operator/sessions?phase=resume_pending&silo={Uri.EscapeDataString(Silo1)}&stale=true&limit=2", request.ToString());
        Assert.Equal(Silo1, request.Query["silo"]);
    }

    [Fact]
    public async Task Sessions_all_follows_next_to_the_last_page()
    {
        var (exitCode, output) = await RunAsync(api.Environment(), "sessions", "--all", "--limit", "2");

        Assert.True(exitCode == 0, output);
        foreach (var id in OperatorApiStandIn.SessionIds)
        {
            Assert.Contains(id, output);
        }

        Assert.DoesNotContain("--after", output);
        Assert.Equal(
            ["GET /api/operator/sessions?limit=2", "GET /api/operator/sessions?limit=2&after=s-002", "GET /api/operator/sessions?limit=2&after=s-004"],
            api.Requests().Select(r => r.ToString()));
    }

    [Fact]
    public async Task Sessions_json_is_the_page_as_sent_and_with_all_every_session_in_the_same_shape()
    {
        var (onePageExit, onePage) = await RunAsync(api.Environment(), "sessions", "--json", "--limit", "2");
        var (allExit, all) = await RunAsync(api.Environment(), "sessions", "--json", "--all");

        Assert.True(onePageExit == 0, onePage);
        Assert.True(JsonNode.DeepEquals(OperatorApiStandIn.Page(after: null), JsonNode.Parse(onePage)), onePage);
        Assert.True(allExit == 0, all);
        var document = JsonNode.Parse(all)!;
        Assert.Equal(OperatorApiStandIn.SessionIds, document["sessions"]!.AsArray().Select(s => (string)s!["sessionId"]!));
        Assert.Null(document["next"]);
        Assert.True(JsonNode.DeepEquals(OperatorApiStandIn.Counts, document["counts"]), all);
        // Without --limit, --all asks for the largest pages: here, one.
        Assert.Equal("500", Assert.Single(api.Requests()).Query["limit"]);
    }

    [Fact]
    public async Task Session_shows_the_session_its_turns_and_its_history()
    {
        var (exitCode, output) = await RunAsync(api.Environment(), "session", "s-003", "--url", api.Url, "--token", OperatorApiStandIn.Token);

        Assert.True(exitCode == 0, output);
        Assert.Contains("suspended", Line(output, "Phase"));
        Assert.Contains("41", Line(output, "Epoch"));
        Assert.Contains("t2", Line(output, "Active turn"));
        Assert.Contains("done 3 steps", Line(output, "m-1"));
        Assert.Contains("interrupted", Line(output, "m-2"));
        Assert.Contains("7/20", Line(output, "m-2"));
        Assert.Contains("premark", Line(output, "restart: premarked restart_timeout"));
        Assert.Contains("2026-11-28 07:50:02", Line(output, "suspended by an operator"));
        Assert.Contains(Silo1, Line(output, "restart: premarked restart_timeout"));
        var request = Assert.Single(api.Requests());
        Assert.Equal("GET /api/operator/sessions/s-003", request.ToString());
        Assert.Equal($"Bearer {OperatorApiStandIn.Token}", request.Authorization);

        var (jsonExit, json) = await RunAsync(api.Environment(), "session", "s-003", "--json");
        Assert.True(jsonExit == 0, json);
        Assert.True(JsonNode.DeepEquals(OperatorApiStandIn.SessionReport("s-003"), JsonNode.Parse(json)), json);
    }

    [Theory]
    [InlineData("resume", "running")]
    [InlineData("suspend", "suspended")]
    [InlineData("release", "resume_pending")]
    public async Task A_session_action_posts_to_its_route_and_says_what_became_of_the_session(string action, string phase)
    {
        var (exitCode, output) = await RunAsync(api.Environment(), action, "s-003");

        Assert.True(exitCode == 0, output);
        Assert.Equal($"Session s-003 is {phase}: {action} done by the stand-in", output.Trim());
        var request = Assert.Single(api.Requests());
        Assert.Equal($"POST /api/operator/sessions/s-003/{action}", request.ToString());
        Assert.Equal($"Bearer {OperatorApiStandIn.Token}", request.Authorization);
    }

    [Fact]
    public async Task A_session_action_with_json_prints_the_answer()
    {
        var (exitCode, output) = await RunAsync(api.Environment(), "suspend", "s-003", "--json");

        Assert.True(exitCode == 0, output);
        Assert.True(JsonNode.DeepEquals(OperatorApiStandIn.SessionChange("s-003", "suspend"), JsonNode.Parse(output)), output);
    }

    [Theory]
    [InlineData("drain", "Drain", "drains and stops")]
    [InlineData("restart", "Restart", "restarts")]
    public async Task A_silo_action_posts_to_the_url_encoded_address(string action, string nextStop, string says)
    {
        var (exitCode, output) = await RunAsync(api.Environment(), action, Silo1);

        Assert.True(exitCode == 0, output);
        Assert.Contains($"Silo {Silo1} {says}", output);
        Assert.Contains("yes", Line(output, "Draining"));
        Assert.Contains(nextStop, Line(output, "Next stop"));
        var request = Assert.Single(api.Requests());
        Assert.Equal($"POST /api/operator/silos/{Silo1}/{action}", request.ToString());
        Assert.Equal($"/api/operator/silos/127.0.0.1%3A11111%40154852577/{action}", request.RawTarget);

        var (jsonExit, json) = await RunAsync(api.Environment(), action, Silo1, "--json");
        Assert.True(jsonExit == 0, json);
        Assert.True(JsonNode.DeepEquals(OperatorApiStandIn.SiloChange(action), JsonNode.Parse(json)), json);
    }

    [Fact]
    public async Task A_refused_token_is_one_line_that_says_so()
    {
        var environment = api.Environment(token: "not-the-token");

        foreach (var command in new[] { new[] { "status" }, ["sessions"], ["session", "s-003"], ["resume", "s-003"], ["drain", Silo1] })
        {
            var (exitCode, output) = await RunAsync(environment, command);

            Assert.Equal(1, exitCode);
            Assert.Equal($"ogw: the dashboard at {api.Url} refused the operator token (401: missing or invalid operator token); check --token or OGW_OPERATOR_TOKEN", OneLine(output));
            Assert.Equal("Bearer not-the-token", Assert.Single(api.Requests()).Authorization);
        }
    }

    [Theory]
    [InlineData("ogw: session 'nobody' not found", "session", "nobody")]
    [InlineData("ogw: session 'nobody' not found", "suspend", "nobody")]
    [InlineData("ogw: session 'busy' is running: only a suspended or resume_pending session can be resumed", "resume", "busy")]
    [InlineData("ogw: session 'busy' is running, not quarantined", "release", "busy")]
    [InlineData("ogw: silo 127.0.0.1:11113@154852577 is not in the cluster", "restart", "127.0.0.1:11113@154852577")]
    public async Task A_404_or_409_is_one_line_with_the_api_s_reason(string expected, params string[] command)
    {
        var (exitCode, output) = await RunAsync(api.Environment(), command);

        Assert.Equal(1, exitCode);
        Assert.Equal(expected, OneLine(output));
        Assert.Single(api.Requests());
    }

    [Fact]
    public async Task An_unreachable_dashboard_is_one_line_with_its_url_and_how_to_start_one()
    {
        var url = $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}/";

        var (exitCode, output) = await RunAsync(api.Environment(url: url), "sessions");

        Assert.Equal(1, exitCode);
        var line = OneLine(output);
        Assert.StartsWith($"ogw: cannot reach the dashboard at {url} (", line);
        Assert.Contains("`ogw up` starts one", line);
    }

    [Theory]
    [InlineData("ogw: --phase 'paused' is not a phase (idle, running, resume_pending, suspended, quarantined)", "sessions", "--phase", "paused")]
    [InlineData("ogw: --limit must be between 1 and 500", "sessions", "--limit", "0")]
    [InlineData("ogw: --limit must be between 1 and 500", "sessions", "--limit", "501")]
    [InlineData("ogw: --limit 'ten' is not a number", "sessions", "--limit", "ten")]
    [InlineData("ogw: 'a/b' is not a session id", "session", "a/b")]
    [InlineData("ogw: 'x y' is not a session id", "resume", "x y")]
    [InlineData("ogw: '127.0.0.1:11111' is not a silo address", "drain", "127.0.0.1:11111")]
    [InlineData("ogw: --url 'localhost' is not an http:// or https:// URL", "status", "--url", "localhost")]
    [InlineData("ogw: no operator token: pass --token or set OGW_OPERATOR_TOKEN", "status", "--token", "")]
    [InlineData("ogw: Unrecognized command or argument '--bogus'", "sessions", "--bogus")]
    public async Task A_bad_option_is_one_line_before_any_request(string expected, params string[] command)
    {
        var (exitCode, output) = await RunAsync(api.Environment(), command);

        Assert.NotEqual(0, exitCode);
        Assert.StartsWith(expected, OneLine(output));
        Assert.Empty(api.Requests());
    }

    [Fact]
    public async Task An_answer_of_another_shape_than_the_contract_is_one_line_not_a_table_of_blanks()
    {
        var (exitCode, output) = await RunAsync(api.Environment(), "session", "garbled");

        Assert.Equal(1, exitCode);
        var line = OneLine(output);
        Assert.StartsWith($"ogw: the dashboard at {api.Url} answered GET /api/operator/sessions/garbled with 200 and a document ogw cannot read: ", line);
        Assert.Contains("phase", line);
    }

    [Fact]
    public async Task A_missing_token_is_refused_before_any_request()
    {
        var (exitCode, output) = await RunAsync(api.Environment(token: ""), "sessions");

        Assert.Equal(1, exitCode);
        Assert.Equal("ogw: no operator token: pass --token or set OGW_OPERATOR_TOKEN", OneLine(output));
        Assert.Empty(api.Requests());
    }

    private Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        api.ClearRequests();
        return OgwProcess.RunAsync(environment, arguments);
    }

    /// <summary>The one line of output (stdout and stderr) an error must be.</summary>
    private static string OneLine(string output) => Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The first line of a table that contains <paramref name="text"/>.</summary>
    private static string Line(string output, string text) =>
        output.Split('\n').FirstOrDefault(line => line.Contains(text, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no line with \"{text}\" in:\n{output}");
}

/// <summary>
/// A stand-in for the dashboard's operator API: a real HTTP server (ASP.NET Core minimal API on a free loopback
/// port) that checks the bearer token, answers every route of the contract with canned documents, and records every
/// request. Data: silos <see cref="Silo1"/> (answers) and silo2 (does not: nulls); sessions s-001 to s-005 in pages
/// whose cursor is the last id; session s-003 with two turns and two events; the ids <c>nobody</c> (404), <c>busy</c>
/// (409) and <c>garbled</c> (200 with a document that breaks the contract). Every other document has every property of
/// the dashboard's own records (<c>OrleansGateway.Operations</c>), as <c>ogw</c> reads them strictly.
/// </summary>
public sealed class OperatorApiStandIn : IAsyncLifetime
{
    public const string Token = "test-operator-token";
    public const string Silo1 = "127.0.0.1:11111@154852577";
    private const string Silo2 = "127.0.0.1:11112@154852590";
    private const int DefaultLimit = 50;

    public static readonly string[] SessionIds = ["s-001", "s-002", "s-003", "s-004", "s-005"];

    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    public static JsonNode Silos => JsonNode.Parse("""
        [
          {"address":"127.0.0.1:11111@154852577","name":"silo1","status":"Active","draining":false,"activeSessions":12,"runningTurns":3,"version":"1.4.0+8c1f2e0","reachable":true,"startedAt":"2026-11-28T06:00:00+00:00"},
          {"address":"127.0.0.1:11112@154852590","name":"silo2","status":"ShuttingDown","draining":null,"activeSessions":null,"runningTurns":null,"version":null,"reachable":false,"startedAt":"2026-11-28T06:00:13+00:00"},
          {"address":"127.0.0.1:11113@154850001","name":"silo3","status":"Dead","draining":null,"activeSessions":null,"runningTurns":null,"version":null,"reachable":false,"startedAt":"2026-11-28T05:30:00+00:00"}
        ]
        """)!;

    public static JsonNode Counts => JsonNode.Parse("""{"idle":31,"running":4,"resume_pending":7,"suspended":0,"quarantined":1,"stale":2}""")!;

    /// <summary>The page after the cursor <paramref name="after"/> (a session id), or null for an unknown cursor.</summary>
    public static JsonNode? Page(string? after, int limit = 2)
    {
        var start = after is null ? 0 : Array.IndexOf(SessionIds, after) + 1;
        if (start == 0 && after is not null)
        {
            return null;
        }

        var ids = SessionIds.Skip(start).Take(limit).ToArray();
        var more = start + ids.Length < SessionIds.Length;
        return new JsonObject
        {
            ["sessions"] = new JsonArray([.. ids.Select(Summary)]),
            ["next"] = more ? ids[^1] : null,
            ["counts"] = Counts,
        };
    }

    public static JsonNode SessionReport(string id)
    {
        var session = Summary(id).AsObject();
        session["phase"] = "suspended";
        session["epoch"] = 41;
        session["activeTurnId"] = "t2";
        session["turns"] = JsonNode.Parse("""
            [
              {"turnId":"t1","messageId":"m-1","status":"completed","stepsDone":3,"stepsTotal":3,"executions":1,"reply":"done 3 steps"},
              {"turnId":"t2","messageId":"m-2","status":"interrupted","stepsDone":7,"stepsTotal":20,"executions":2,"reply":null}
            ]
            """);
        session["turnsUnavailable"] = null;
        return new JsonObject
        {
            ["session"] = session,
            ["history"] = JsonNode.Parse($$"""
                [
                  {"id":902,"at":"2026-11-28T07:50:02.25+00:00","kind":"suspended","sessionId":"{{id}}","silo":null,"actor":"operator","detail":"suspended by an operator"},
                  {"id":877,"at":"2026-11-28T07:41:10+00:00","kind":"premark","sessionId":"{{id}}","silo":"{{Silo1}}","actor":null,"detail":"restart: premarked restart_timeout"}
                ]
                """),
        };
    }

    public static JsonNode SessionChange(string id, string action) => new JsonObject
    {
        ["sessionId"] = id,
        ["phase"] = action switch { "resume" => "running", "suspend" => "suspended", _ => "resume_pending" },
        ["message"] = $"{action} done by the stand-in",
    };

    public static JsonNode SiloChange(string action) => new JsonObject
    {
        ["address"] = Silo1,
        ["active"] = true,
        ["draining"] = true,
        ["activeSessions"] = 12,
        ["runningTurns"] = 3,
        ["version"] = "1.4.0+8c1f2e0",
        ["nextStop"] = action == "restart" ? "Restart" : "Drain",
    };

    /// <summary>The environment of an <c>ogw</c> run: this server and its token unless told otherwise (empty: unset).</summary>
    public IReadOnlyDictionary<string, string> Environment(string? url = null, string token = Token) =>
        new Dictionary<string, string> { ["OGW_URL"] = url ?? Url, ["OGW_OPERATOR_TOKEN"] = token };

    public IReadOnlyList<RecordedRequest> Requests() => [.. _requests];

    public void ClearRequests() => _requests.Clear();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();

        app.Use(async (context, next) =>
        {
            var request = context.Request;
            _requests.Enqueue(new RecordedRequest(
                request.Method, request.Path.Value ?? "", context.Features.Get<IHttpRequestFeature>()!.RawTarget.Split('?')[0],
                request.QueryString.Value ?? "", request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()), request.Headers.Authorization.ToString()));
            if (request.Headers.Authorization.ToString() != $"Bearer {Token}")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await context.Response.WriteAsJsonAsync(new { error = "missing or invalid operator token" });
                return;
            }

            await next(context);
        });

        app.MapGet("/api/operator/silos", () => Results.Text(Silos.ToJsonString(), "application/json"));
        app.MapGet("/api/operator/sessions", (string? after, int? limit) =>
            limit is < 1 or > 500 ? Error(400, "limit must be between 1 and 500")
            : Page(after, limit ?? DefaultLimit) is { } page ? Json(page)
            : Error(400, $"unknown cursor '{after}'"));
        app.MapGet("/api/operator/sessions/{id}", (string id) =>
            SessionIds.Contains(id) ? Json(SessionReport(id))
            // Off contract on purpose: a session without its fields, as a dashboard of another version might send it.
            : id == "garbled" ? Json(JsonNode.Parse("""{"session":{"sessionId":"garbled"},"history":[]}""")!)
            : Error(404, $"session '{id}' not found"));
        app.MapPost("/api/operator/sessions/{id}/{action}", (string id, string action) => (id, action) switch
        {
            (_, not ("resume" or "suspend" or "release")) => Error(404, "no such route"),
            ("busy", "resume") => Error(409, "session 'busy' is running: only a suspended or resume_pending session can be resumed"),
            ("busy", "release") => Error(409, "session 'busy' is running, not quarantined"),
            _ when SessionIds.Contains(id) || id == "busy" => Json(SessionChange(id, action)),
            _ => Error(404, $"session '{id}' not found"),
        });
        app.MapPost("/api/operator/silos/{address}/{action}", (string address, string action) =>
            action is not ("drain" or "restart") ? Error(404, "no such route")
            : address is Silo1 ? Json(SiloChange(action))
            : Error(404, $"silo {address} is not in the cluster"));
        app.MapGet("/api/operator/events", () =>
            Json(new JsonObject { ["events"] = SessionReport("s-003")["history"]!.DeepClone(), ["last"] = 902 }));

        await app.StartAsync();
        _app = app;
        Url = app.Urls.Single().TrimEnd('/') + "/";
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private static JsonNode Summary(string id)
    {
        var index = Array.IndexOf(SessionIds, id);
        return new JsonObject
        {
            ["sessionId"] = id,
            ["phase"] = "resume_pending",
            ["resumeReason"] = "restart_timeout",
            ["ownerSilo"] = Silo2,
            ["attempts"] = index,
            ["lastError"] = index == 1 ? "agent step threw" : null,
            ["stale"] = index == 1,
            ["resumeMarkedAt"] = "2026-11-28T06:40:00+00:00",
            ["updatedAt"] = "2026-11-28T06:40:00.125+00:00",
            ["ageSeconds"] = index == 1 ? 3_675 : 42,
        };
    }

    private static IResult Json(JsonNode document) => Results.Text(document.ToJsonString(), "application/json");

    private static IResult Error(int status, string reason) => Results.Json(new { error = reason }, statusCode: status);
}

/// <summary>One request the stand-in received: method, decoded path, raw path (as sent), query, Authorization header.</summary>
public sealed record RecordedRequest(string Method, string Path, string RawTarget, string QueryString, IReadOnlyDictionary<string, string> Query, string Authorization)
{
    public override string ToString() => $"{Method} {Path}{QueryString}";
}
