using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace OrleansGateway.Tests.Dashboard;

/// <summary>
/// An operator at the page, in Debian's Chromium driven by Playwright: signs in to the attention list, restarts the silo
/// that runs a long turn and watches the session wait (tiles and attention list agreeing at every refresh) and run again
/// elsewhere with its whole life in its history, sees the restarted silo as one row with a new generation, releases a
/// quarantined session, pages back through the turns of a long session, filters by the count tiles,
/// signs out and is sent back to the sign-in page by the Orleans dashboard. Leaves screenshots at <see cref="ScreenshotPath"/>
/// and of the restart (<c>restart-draining.png</c>, <c>restart-resumed.png</c>) beside it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardBrowserTests(PostgresFixture postgres)
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private const int ChattyTurns = 60;

    /// <summary>The page at the end of the scenario, kept as an artifact of the run.</summary>
    public static string ScreenshotPath => Screenshot("dashboard");

    /// <summary>The page at a moment of the scenario (<c>TestResults/&lt;name&gt;.png</c>).</summary>
    public static string Screenshot(string name) => Path.Combine(AppContext.BaseDirectory, "TestResults", $"{name}.png");

    // How many lines the text of an element takes: 1 when a status or an address is not broken in the middle.
    private const string LinesOf = "(e) => { const r = document.createRange(); r.selectNodeContents(e); return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }";

    // The restarted silo drains for a few seconds: long enough for the page (it polls every second) to show the wait.
    // The Orleans dashboard's collector runs, as it does by default: the page's link to it is followed.
    private static readonly Dictionary<string, string> Stops = new(SiloProcessCluster.WithOrleansDashboard)
    {
        ["Gateway__Resume__DrainTimeout"] = "00:00:06",
        ["Gateway__Resume__InterruptGrace"] = "00:00:01",
    };

    [Fact]
    public async Task An_operator_restarts_a_silo_and_releases_a_quarantined_session_from_the_page()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: apt-get install -y chromium (.ci/run does)");
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("dashweb"));
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        var ledger = new SessionQueries(dataSource);

        // A long turn on silo A, then silo B to take it over; a quarantined session (suspended, then marked by hand).
        var siloA = await cluster.StartSiloAsync("a", Stops);
        await PostAsync(siloA, "long-1", "work 200x500");
        var addressA = (await WaitForPhaseAsync(ledger, "long-1", SessionPhase.Running)).OwnerSilo!;
        var siloB = await cluster.StartSiloAsync("b", Stops);
        await PostAsync(siloB, "poison-1", "work 8x300");
        await WaitForPhaseAsync(ledger, "poison-1", SessionPhase.Running);
        using (var client = SiloProcessCluster.ClientFor(siloB))
        using (var suspended = await client.PostAsync("api/sessions/poison-1/suspend", content: null))
        {
            Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        }

        // A session with more turns than the detail shows at once (50): its older ones are paged.
        for (var number = 1; number <= ChattyTurns; number++)
        {
            using var posted = await SiloProcessCluster.PostMessageAsync(siloB, "chatty-1", new { text = $"hello {number}", messageId = $"m{number}" });
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        await using (var quarantine = dataSource.CreateCommand(
            "UPDATE gateway_sessions SET phase = 'quarantined', last_error = 'quarantined after 3 resumes without progress' WHERE session_id = 'poison-1'"))
        {
            await quarantine.ExecuteNonQueryAsync();
        }

        await using var dashboard = await DashboardHarness.StartAsync(cluster.ConnectionString, cluster.ClusterId, cluster.LogDirectory);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = [.. LocalPostgresServer.RunningAsRoot ? ["--no-sandbox"] : Array.Empty<string>(),
                "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
        await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1200 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);

        try
        {
            // Sign in with the token. The chart of counts over time starts with what the dashboard sampled before.
            await page.GotoAsync(dashboard.BaseAddress.ToString());
            var signInForm = page.GetByRole(AriaRole.Form, new() { Name = "Sign in" });
            await signInForm.GetByLabel("Operator token").FillAsync(DashboardHarness.OperatorToken);
            var signedInAt = await page.EvaluateAsync<double>("() => Date.now()");
            await signInForm.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Banner)).ToContainTextAsync("signed in as operator");
            var phaseChart = await page.GetByRole(AriaRole.Img, new() { Name = "Phases over time" }).ElementHandleAsync();
            await page.WaitForFunctionAsync("([chart, t]) => +chart.dataset.oldest < t", new object[] { phaseChart, signedInAt });
            var silos = page.GetByRole(AriaRole.Table, new() { Name = "Silos", Exact = true });
            await Expect(silos.GetByRole(AriaRole.Row).Filter(new() { HasText = "Active" })).ToHaveCountAsync(2);
            await Expect(silos.GetByRole(AriaRole.Columnheader, new() { Name = "Owned (ledger)" })).ToBeVisibleAsync();
            await Expect(silos.GetByRole(AriaRole.Columnheader, new() { Name = "Activations" })).ToBeVisibleAsync();
            // No resume yet: the lag chart draws no made-up scale. The page has its icon.
            await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Resume lag" })).ToHaveAttributeAsync("data-y-max", "");
            await Expect(page.Locator("link[rel=icon]")).ToHaveAttributeAsync("href", "favicon.svg");
            using (var http = new HttpClient { BaseAddress = dashboard.BaseAddress })
            using (var icon = await http.GetAsync("favicon.svg"))
            {
                Assert.Equal((HttpStatusCode.OK, "image/svg+xml"), (icon.StatusCode, icon.Content.Headers.ContentType?.MediaType));
            }

            // Attention first: the quarantined session heads the page with its last error.
            var attention = page.GetByRole(AriaRole.Table, new() { Name = "Needs attention" });
            await Expect(attention.GetByRole(AriaRole.Row, new() { Name = "poison-1" })).ToHaveAttributeAsync("data-reason", "quarantined");
            await Expect(attention.GetByRole(AriaRole.Row, new() { Name = "poison-1" })).ToContainTextAsync("quarantined after 3 resumes");
            var counts = page.GetByRole(AriaRole.Region, new() { Name = "Sessions by phase" });
            Task CountIsAsync(string tile, string count) =>
                Expect(counts.GetByRole(AriaRole.Button, new() { NameRegex = new($"{tile}$") })).ToHaveTextAsync(new Regex($"^{count}\\s*{tile}$"));
            await CountIsAsync("quarantined", "1");

            // Open the long session with a click on the middle of its row (its owner), then restart its silo through the
            // page, behind the confirmation dialog. The owner is named as the silos name it, its address on hover; it stays on
            // one line, and the click filters nothing.
            var sessions = page.GetByRole(AriaRole.Table, new() { Name = "Sessions", Exact = true });
            var ownerCell = sessions.GetByRole(AriaRole.Row, new() { Name = "long-1" }).GetByRole(AriaRole.Cell, new() { Name = "a", Exact = true });
            await Expect(ownerCell).ToHaveAttributeAsync("title", addressA);
            Assert.Equal(1, await ownerCell.EvaluateAsync<int>(LinesOf));
            await ownerCell.ClickAsync();
            var detail = page.GetByRole(AriaRole.Region, new() { Name = "Session detail" });
            var phase = detail.GetByLabel("Phase", new() { Exact = true });
            await Expect(phase).ToHaveAttributeAsync("data-phase", "running");
            await Expect(detail.GetByLabel("Owner", new() { Exact = true })).ToHaveTextAsync(addressA);
            await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Session filters" }).GetByLabel("Owner silo")).ToHaveValueAsync("");
            await Expect(detail.GetByLabel("Age", new() { Exact = true })).ToContainTextAsync("last checkpoint");
            await silos.GetByRole(AriaRole.Row, new() { Name = addressA }).GetByRole(AriaRole.Button, new() { Name = "Restart" }).ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Expect(dialog).ToBeVisibleAsync();
            await Expect(dialog).ToContainTextAsync("restart_timeout");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
            var toast = page.GetByRole(AriaRole.Status);
            await Expect(toast).ToContainTextAsync("restart requested");

            // The session waits (premarked while A drains) and heads the attention list; the tiles, read in the same
            // snapshot, count exactly the waiting sessions the list shows, at every refresh. Then it runs again on B.
            await Expect(phase).ToHaveAttributeAsync("data-phase", "resume_pending", new() { Timeout = 20_000 });
            await Expect(detail.GetByLabel("Reason", new() { Exact = true })).ToHaveTextAsync(ResumeReasons.RestartTimeout);
            await Expect(attention.GetByRole(AriaRole.Row, new() { Name = "long-1" })).ToHaveAttributeAsync("data-reason", "resume_pending");
            await page.ScreenshotAsync(new() { Path = Screenshot("restart-draining"), FullPage = true });
            for (var sample = 0; sample < 8; sample++)
            {
                var counted = await page.EvaluateAsync<int[]>("""
                    () => [+document.querySelector('#phase-counts .count.resume_pending strong').textContent.replace(/\D/g, ''),
                           document.querySelectorAll('#attention tr[data-reason=resume_pending], #attention tr[data-reason=stale]').length]
                    """);
                Assert.True(counted[0] == counted[1], $"the resume_pending tile says {counted[0]}, the attention list shows {counted[1]}");
                await page.WaitForTimeoutAsync(400);
            }

            await Expect(phase).ToHaveAttributeAsync("data-phase", "running", new() { Timeout = 60_000 });
            await Expect(detail.GetByLabel("Owner", new() { Exact = true })).Not.ToHaveTextAsync(addressA);
            await Expect(sessions.GetByRole(AriaRole.Row, new() { Name = "long-1" })).ToHaveAttributeAsync("data-phase", "running");
            await Expect(attention.GetByRole(AriaRole.Row, new() { Name = "long-1" })).ToHaveCountAsync(0);
            // Its whole life: accepted (and started at once), premarked by A's stop, interrupted, resumed on B after how long.
            var history = detail.GetByRole(AriaRole.List, new() { Name = "History" });
            foreach (var kind in new[] { "accepted", "premark", "interrupted", "resumed" })
            {
                await Expect(history.Locator($"li[data-kind={kind}]").First).ToBeVisibleAsync();
            }

            await Expect(history.Locator("li[data-kind=premark]")).ToContainTextAsync(addressA);
            await Expect(history.Locator("li[data-kind=resumed]")).ToContainTextAsync("waited");
            Assert.True(await siloA.WaitForExitAsync(TimeSpan.FromSeconds(30)), "silo A did not exit");
            Assert.Equal(SiloExitCodes.RestartRequested, siloA.ExitCode);

            // A's supervisor starts it again on its ports: one silo, its new generation, the old one collapsed under it.
            await using var restartedA = SiloProcess.Start(siloA.Settings with { LogFile = siloA.Settings.LogFile + ".restarted.log" });
            await restartedA.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            var endpointA = addressA[..addressA.LastIndexOf('@')];
            var rowsOfA = silos.Locator($"tr[data-endpoint='{endpointA}']");
            await Expect(rowsOfA).ToHaveCountAsync(1);
            await Expect(rowsOfA).ToHaveAttributeAsync("data-status", "Active", new() { Timeout = 30_000 });
            await Expect(rowsOfA).ToContainTextAsync($"restarted; before: @{addressA[(addressA.LastIndexOf('@') + 1)..]} Dead");
            await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Resume lag" })).Not.ToHaveAttributeAsync("data-y-max", "");
            await page.ScreenshotAsync(new() { Path = Screenshot("restart-resumed"), FullPage = true });

            // Release the quarantined session: it resumes and its turn finishes.
            await sessions.GetByRole(AriaRole.Cell, new() { Name = "poison-1", Exact = true }).ClickAsync();
            await Expect(phase).ToHaveAttributeAsync("data-phase", "quarantined");
            await Expect(detail.GetByRole(AriaRole.Button, new() { Name = "Resume now" })).ToBeDisabledAsync();
            await detail.GetByRole(AriaRole.Button, new() { Name = "Release from quarantine" }).ClickAsync();
            await Expect(dialog).ToContainTextAsync("poison-1");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
            await Expect(toast).ToContainTextAsync("released");
            await Expect(phase).ToHaveAttributeAsync("data-phase", "idle", new() { Timeout = 30_000 });
            var completed = detail.GetByRole(AriaRole.Table, new() { Name = "Turns" }).GetByRole(AriaRole.Cell, new() { Name = "completed", Exact = true });
            await Expect(completed).ToBeVisibleAsync();
            Assert.Equal(1, await completed.EvaluateAsync<int>(LinesOf));
            await CountIsAsync("quarantined", "0");

            // A long history: the newest 50 turns, then the older ones through the pager, and back.
            await WaitForPhaseAsync(ledger, "chatty-1", SessionPhase.Idle);
            await sessions.GetByRole(AriaRole.Cell, new() { Name = "chatty-1", Exact = true }).ClickAsync();
            var turns = detail.GetByRole(AriaRole.Table, new() { Name = "Turns" });
            var turnsInfo = detail.GetByRole(AriaRole.Group, new() { Name = "Pages of turns" });
            var older = turnsInfo.GetByRole(AriaRole.Button, new() { Name = "Older turns" });
            var newer = turnsInfo.GetByRole(AriaRole.Button, new() { Name = "Newer turns" });
            await Expect(turnsInfo).ToContainTextAsync($"t11–t{ChattyTurns} of {ChattyTurns} turns");
            await Expect(turns.GetByRole(AriaRole.Row)).ToHaveCountAsync(1 + 50);
            await Expect(newer).ToBeDisabledAsync();
            await older.ClickAsync();
            await Expect(turnsInfo).ToContainTextAsync($"t1–t10 of {ChattyTurns} turns");
            await Expect(turns.GetByRole(AriaRole.Row)).ToHaveCountAsync(1 + 10);
            await Expect(turns.GetByRole(AriaRole.Cell, new() { Name = "hello 1", Exact = true })).ToBeVisibleAsync();
            await Expect(older).ToBeDisabledAsync();
            await page.WaitForTimeoutAsync(1500); // a poll of the detail meanwhile leaves the older page shown
            await Expect(turnsInfo).ToContainTextAsync($"t1–t10 of {ChattyTurns} turns");
            await newer.ClickAsync();
            await Expect(turnsInfo).ToContainTextAsync($"t11–t{ChattyTurns} of {ChattyTurns} turns");
            await Expect(turns.GetByRole(AriaRole.Cell, new() { Name = $"hello {ChattyTurns}", Exact = true })).ToBeVisibleAsync();
            await Expect(newer).ToBeDisabledAsync();

            // The live feed shows what happened, the operator's actions with their name.
            var feed = page.GetByRole(AriaRole.List, new() { Name = "Events" });
            ILocator Events(string kind) =>
                feed.GetByRole(AriaRole.Listitem).Filter(new() { Has = page.GetByText(kind, new() { Exact = true }) });
            await Expect(Events("premark")).Not.ToHaveCountAsync(0);
            await Expect(Events("resumed")).Not.ToHaveCountAsync(0);
            await Expect(Events("resumed").First).ToContainTextAsync("waited");
            await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Resume lag" })).Not.ToHaveAttributeAsync("data-points", "0");
            await Expect(Events("operator_action")).ToHaveCountAsync(2);
            await Expect(Events("operator_action").First).ToContainTextAsync("by operator");

            // The silos' own events: A's old generation left after its drain, its new one joined on the same endpoint.
            // A kind this page does not know is shown as it comes.
            await Expect(feed.Locator($"li[data-kind={EventKinds.SiloLeft}]").Filter(new() { HasText = addressA })).ToHaveCountAsync(1);
            await Expect(feed.Locator($"li[data-kind={EventKinds.SiloJoined}]").Filter(new() { HasText = endpointA })).ToHaveCountAsync(2);
            await new EventHistory(dataSource).AppendAsync("a_kind_from_the_future", sessionId: null, addressA, actor: null, "something new happened");
            await Expect(feed.Locator("li[data-kind=a_kind_from_the_future]")).ToContainTextAsync("something new happened");
            Assert.Empty(scriptErrors);

            // The official Orleans dashboard opens from the page's link: the sign-in left the cookie it needs.
            var orleans = await page.RunAndWaitForPopupAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Orleans dashboard" }).ClickAsync());
            await Expect(orleans).ToHaveTitleAsync("Orleans Dashboard");
            await Expect(orleans.GetByText("Active silos", new() { Exact = false }).First).ToBeVisibleAsync();
            await orleans.CloseAsync();

            // The count tiles filter one at a time: a phase tile clears the stale filter and the stale tile the phase filter.
            var filters = page.GetByRole(AriaRole.Form, new() { Name = "Session filters" });
            var phaseFilter = filters.GetByLabel("Phase");
            var staleFilter = filters.GetByLabel("Stale");
            await counts.GetByRole(AriaRole.Button, new() { NameRegex = new("running$") }).ClickAsync();
            await Expect(phaseFilter).ToHaveValueAsync("running");
            await counts.GetByRole(AriaRole.Button, new() { NameRegex = new("stale$") }).ClickAsync();
            await Expect(staleFilter).ToHaveValueAsync("true");
            await Expect(phaseFilter).ToHaveValueAsync("");
            await counts.GetByRole(AriaRole.Button, new() { NameRegex = new("idle$") }).ClickAsync();
            await Expect(phaseFilter).ToHaveValueAsync("idle");
            await Expect(staleFilter).ToHaveValueAsync("");

            // The silo filter keeps its options (and an open list stays open) across the silo polls, every 2 s, while
            // the silos do not change.
            await filters.GetByLabel("Owner silo").EvaluateAsync("(select) => { window.lastSiloOption = select.options[select.options.length - 1]; }");
            await page.WaitForTimeoutAsync(4500);
            Assert.True(await page.EvaluateAsync<bool>("() => window.lastSiloOption.isConnected"), "the silo filter's options were replaced");

            // Signed out, the Orleans dashboard sends the browser to the sign-in page; a saved token that is refused is forgotten.
            await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync(), "**/orleans/signout");
            await Expect(signInForm).ToBeVisibleAsync();
            await page.GotoAsync(new Uri(dashboard.BaseAddress, "orleans/").ToString());
            Assert.Equal(dashboard.BaseAddress.ToString(), page.Url);
            await Expect(signInForm).ToBeVisibleAsync();
            await page.EvaluateAsync("() => sessionStorage.setItem('ogw.operatorToken', 'not-the-token')");
            await page.ReloadAsync();
            await Expect(signInForm.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That token is not accepted.");
            Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('ogw.operatorToken')"));
            Assert.Empty(scriptErrors);
        }
        finally
        {
            Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
            await page.ScreenshotAsync(new() { Path = ScreenshotPath, FullPage = true });
        }

        var audit = await dashboard.AuditAsync();
        Assert.Equal([$"{addressA} restart operator", "poison-1 release operator"],
            audit.Select(e => $"{e.Silo ?? e.SessionId} {e.Detail.Split(':')[0]} {e.Actor}"));
        _ = siloB;
    }

    private static async Task PostAsync(SiloProcess silo, string sessionId, string text)
    {
        using var response = await SiloProcessCluster.PostMessageAsync(silo, sessionId, new { text, messageId = "m1" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task<LedgerRow> WaitForPhaseAsync(SessionQueries ledger, string sessionId, SessionPhase phase)
    {
        LedgerRow? row = null;
        await Eventually.UntilAsync(async () => (row = await ledger.GetAsync(sessionId))?.Phase == phase, TimeSpan.FromSeconds(30),
            () => $"{sessionId} is {row?.Phase.ToString() ?? "missing"}, not {phase}");
        return row!;
    }
}
