using System.Net;
using System.Text.Json;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Dashboard;

/// <summary>
/// Every route of the operator API and of the Orleans dashboard behind the operator token, against a real silo:
/// no token or a wrong one is 401 with <c>{"error"}</c>; the right one gets through and is named in the audit trail;
/// a read-only dashboard lets anyone read and nobody act without a token.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardAuthTests(PostgresFixture postgres)
{
    private const string Session = "auth-1";
    private const string NoSuchSilo = "10.9.9.9:1@1";

    // The Orleans dashboard's routes under /orleans: its page, a static asset of it, and its API (what its scripts poll).
    private static readonly string[] GetRoutes =
    [
        "api/operator/me", "api/operator/silos", "api/operator/sessions", DashboardHarness.SessionPath(Session), "api/operator/events",
        "api/operator/counts/history",
        "orleans/", "orleans/index.min.js", "orleans/DashboardCounters", "orleans/ClusterStats",
    ];

    private static readonly string[] PostRoutes =
    [
        $"{DashboardHarness.SessionPath(Session)}/suspend", $"{DashboardHarness.SessionPath(Session)}/resume", $"{DashboardHarness.SessionPath(Session)}/release",
        $"api/operator/silos/{Uri.EscapeDataString(NoSuchSilo)}/drain", $"api/operator/silos/{Uri.EscapeDataString(NoSuchSilo)}/restart",
    ];

    [Fact]
    public async Task Every_route_needs_a_valid_token_and_an_anonymous_read_only_dashboard_lets_nobody_act()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("dashauth"));
        var silo = await cluster.StartSiloAsync("auth", SiloProcessCluster.WithOrleansDashboard);
        using (var posted = await SiloProcessCluster.PostMessageAsync(silo, Session, new { text = "work 1x60000" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        var tokens = DashboardHarness.StartAsync(cluster.ConnectionString, cluster.ClusterId, cluster.LogDirectory);
        var anonymous = DashboardHarness.StartAsync(cluster.ConnectionString, cluster.ClusterId, cluster.LogDirectory,
            new Dictionary<string, string> { ["Dashboard__AllowAnonymousReadOnly"] = "true" }, withTokens: false);
        await using var dashboard = await tokens;
        await using var readOnly = await anonymous;

        // Nothing gets through without the right token, and nothing of it is audited.
        foreach (var (method, route) in GetRoutes.Select(r => (HttpMethod.Get, r)).Concat(PostRoutes.Select(r => (HttpMethod.Post, r))))
        {
            foreach (var (what, authorization) in new (string, string?)[]
                     { ("no token", null), ("a wrong token", "Bearer not-the-token"), ("a Basic header", "Basic b3BlcmF0b3I6eA==") })
            {
                var (status, error, challenge) = await SendAsync(dashboard, method, route, authorization);
                Assert.True(status == HttpStatusCode.Unauthorized, $"{method} {route} with {what}: {(int)status}");
                Assert.False(string.IsNullOrWhiteSpace(error), $"{method} {route} with {what}: no error sentence");
                Assert.Equal("Bearer", challenge);
            }
        }

        Assert.Empty(await dashboard.AuditAsync());

        // The right tokens get through: every read answers 200, every action is taken or refused on its merits.
        foreach (var route in GetRoutes)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(dashboard, HttpMethod.Get, route, $"Bearer {DashboardHarness.AliceToken}")).Status);
        }

        Assert.Equal("alice", (await dashboard.GetJsonAsync("api/operator/me", DashboardHarness.AliceToken)).GetProperty("name").GetString());
        var expected = new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Conflict, HttpStatusCode.NotFound, HttpStatusCode.NotFound };
        var actors = new[] { DashboardHarness.AliceToken, DashboardHarness.OperatorToken, DashboardHarness.OperatorToken, DashboardHarness.OperatorToken, DashboardHarness.AliceToken };
        for (var i = 0; i < PostRoutes.Length; i++)
        {
            var (status, body) = await dashboard.PostAsync(PostRoutes[i], actors[i]);
            Assert.True(status == expected[i], $"POST {PostRoutes[i]}: {(int)status} {body}");
        }

        var audit = await dashboard.AuditAsync();
        Assert.Equal(["alice", "operator", "operator", "operator", "alice"], audit.Select(e => e.Actor));
        Assert.Equal(["suspend", "resume", "release", "drain", "restart"], audit.Select(e => e.Detail.Split(':')[0]));
        Assert.Equal([Session, Session, Session, null, null], audit.Select(e => e.SessionId));
        Assert.Equal([null, null, null, NoSuchSilo, NoSuchSilo], audit.Select(e => e.Silo));

        await TheOrleansDashboardNeedsTheTokenAsync(dashboard, silo.Settings.GatewayPort);

        // Read-only: anyone reads, nobody acts, and a wrong token is still wrong.
        foreach (var route in GetRoutes)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(readOnly, HttpMethod.Get, route, authorization: null)).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(readOnly, HttpMethod.Get, route, "Bearer not-the-token")).Status);
        }

        var me = await readOnly.GetJsonAsync("api/operator/me", token: null);
        Assert.Equal((JsonValueKind.Null, false), (me.GetProperty("name").ValueKind, me.GetProperty("canAct").GetBoolean()));
        foreach (var route in PostRoutes)
        {
            var (status, error, _) = await SendAsync(readOnly, HttpMethod.Post, route, authorization: null);
            Assert.True(status == HttpStatusCode.Unauthorized, $"read-only POST {route}: {(int)status}");
            Assert.Contains("acting needs an operator token", error);
        }

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(readOnly, HttpMethod.Get, "orleans/", authorization: null)).Status);
        Assert.Equal(5, (await readOnly.AuditAsync()).Count);
    }

    private static async Task TheOrleansDashboardNeedsTheTokenAsync(DashboardHarness dashboard, int gatewayPort)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(dashboard, HttpMethod.Get, "orleans/", authorization: null)).Status);
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = dashboard.BaseAddress };

        // A browser opening it without the cookie, or with a stale one, is sent to the sign-in page; an API client asking
        // for HTML gets its 401 all the same.
        foreach (var (route, cookieHeader) in new[] { ("orleans/", null), ("orleans/ClusterStats", null), ("orleans/", "ogw_operator_token=not-the-token") })
        {
            using var browser = new HttpRequestMessage(HttpMethod.Get, route);
            browser.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
            if (cookieHeader is not null)
            {
                browser.Headers.Add("Cookie", cookieHeader);
            }

            using var response = await noRedirects.SendAsync(browser);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"GET {route} as a browser: {(int)response.StatusCode}");
            Assert.Equal("/", response.Headers.Location?.OriginalString);
        }

        using (var apiAsBrowser = new HttpRequestMessage(HttpMethod.Get, "api/operator/silos"))
        {
            apiAsBrowser.Headers.TryAddWithoutValidation("Accept", "text/html");
            using var response = await noRedirects.SendAsync(apiAsBrowser);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using (var page = new HttpRequestMessage(HttpMethod.Get, "orleans/"))
        {
            page.Headers.Authorization = new("Bearer", DashboardHarness.OperatorToken);
            using var response = await noRedirects.SendAsync(page);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("<title>Orleans Dashboard</title>", await response.Content.ReadAsStringAsync());
        }

        // A link with ?token= sets the cookie and takes the token out of the address.
        string cookie;
        using (var link = await noRedirects.GetAsync($"orleans/?token={DashboardHarness.OperatorToken}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, link.StatusCode);
            Assert.Equal("/orleans/", link.Headers.Location?.OriginalString);
            cookie = Assert.Single(link.Headers.GetValues("Set-Cookie"));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("path=/orleans", cookie, StringComparison.OrdinalIgnoreCase);
            cookie = cookie.Split(';')[0];
        }

        using (var wrong = await noRedirects.GetAsync("orleans/?token=not-the-token"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        // What our page does after its sign-in: POST /orleans/signin with the Bearer header.
        using (var signIn = new HttpRequestMessage(HttpMethod.Post, "orleans/signin"))
        {
            signIn.Headers.Authorization = new("Bearer", DashboardHarness.AliceToken);
            using var response = await noRedirects.SendAsync(signIn);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.StartsWith("ogw_operator_token=", Assert.Single(response.Headers.GetValues("Set-Cookie")));
        }

        // The cookie opens the Orleans dashboard's API, which shows the silo (they collect its numbers), and nothing else.
        await Eventually.UntilAsync(async () =>
            {
                using var counters = new HttpRequestMessage(HttpMethod.Get, "orleans/DashboardCounters");
                counters.Headers.Add("Cookie", cookie);
                using var response = await noRedirects.SendAsync(counters);
                return response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadAsStringAsync()).Contains($"\"proxyPort\":{gatewayPort}");
            },
            TimeSpan.FromSeconds(30), () => "the Orleans dashboard never listed the silo");
        using var api = new HttpRequestMessage(HttpMethod.Get, "api/operator/silos");
        api.Headers.Add("Cookie", cookie);
        using var refused = await noRedirects.SendAsync(api);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, string? Error, string? Challenge)> SendAsync(DashboardHarness dashboard, HttpMethod method, string route,
        string? authorization)
    {
        using var client = dashboard.Client(token: null);
        using var request = new HttpRequestMessage(method, route);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var error = response.Content.Headers.ContentType?.MediaType == "application/problem+json" && body.StartsWith('{')
            && JsonDocument.Parse(body).RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
        return (response.StatusCode, error, response.Headers.WwwAuthenticate.FirstOrDefault()?.Scheme);
    }
}
