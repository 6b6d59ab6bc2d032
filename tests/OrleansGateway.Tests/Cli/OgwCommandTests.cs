using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cli;

/// <summary>The <c>ogw</c> program as a user runs it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class OgwCommandTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Db_migrate_applies_the_schema_once_and_says_so()
    {
        var environment = new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = await postgres.CreateDatabaseAsync("cli") };

        var first = await OgwProcess.RunAsync(environment, "db", "migrate");
        var second = await OgwProcess.RunAsync(environment, "db", "migrate");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains($"Migrated from version 0 to {SchemaMigrator.LatestVersion}", first.Output);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains($"Schema is up to date (version {SchemaMigrator.LatestVersion})", second.Output);
    }

    [Fact]
    public async Task Commands_against_an_unreachable_database_fail_with_one_line_as_unavailable()
    {
        var environment = new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={PostgresFixture.FreeTcpPort()};Username=postgres;Timeout=3" };

        foreach (var command in new[] { new[] { "db", "migrate" }, ["db", "status"] })
        {
            var (exitCode, output) = await OgwProcess.RunAsync(environment, command);

            Assert.Equal(69, exitCode);
            var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("ogw: cannot reach PostgreSQL (127.0.0.1:", line);
        }
    }

    [Fact]
    public async Task Commands_with_a_malformed_connection_string_or_a_database_that_refuses_fail_with_one_line()
    {
        var migrated = await postgres.CreateDatabaseAsync("cli");
        var foreign = await postgres.CreateDatabaseAsync("cli");
        await using (var dataSource = NpgsqlDataSource.Create(foreign))
        {
            // Somebody else's table of the name the schema needs.
            await dataSource.CreateCommand("CREATE TABLE orleansquery (id integer)").ExecuteNonQueryAsync();
        }

        var missing = new NpgsqlConnectionStringBuilder(migrated) { Database = "no_such_database" }.ConnectionString;
        var (http, silo, gateway) = (FreePorts.Run(1), FreePorts.Run(1), FreePorts.Run(1));
        var up = new[] { "up", "--silos", "1", "--http-port", $"{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}", "--dashboard-port", "0" };
        var cases = new (string ConnectionString, string[] Command, string Line)[]
        {
            ("Host=127.0.0.1;Bogus Keyword=1", ["db", "migrate"], "ogw: ConnectionStrings__Postgres is not a valid PostgreSQL connection string: "),
            ("Host=127.0.0.1;Bogus Keyword=1", ["db", "status"], "ogw: ConnectionStrings__Postgres is not a valid PostgreSQL connection string: "),
            ("Host=127.0.0.1;Bogus Keyword=1", up, "ogw: ConnectionStrings__Postgres is not a valid PostgreSQL connection string: "),
            (missing, ["db", "migrate"], "ogw: PostgreSQL ("),
            (missing, ["db", "status"], "ogw: PostgreSQL ("),
            (missing, up, "ogw: PostgreSQL ("),
            (foreign, ["db", "migrate"], "ogw: PostgreSQL ("),
        };

        var home = Directory.CreateTempSubdirectory("ogw-home-").FullName;
        foreach (var (connectionString, command, start) in cases)
        {
            var environment = new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = connectionString, ["OGW_HOME"] = home };
            var (exitCode, output) = await OgwProcess.RunAsync(environment, command);

            var what = $"ogw {string.Join(' ', command)} with {connectionString}:\n{output}";
            Assert.True(exitCode == 1, what);
            var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ogw:", StringComparison.Ordinal));
            Assert.True(line.StartsWith(start, StringComparison.Ordinal), what);
            Assert.DoesNotContain("   at ", output);
            if (connectionString == missing)
            {
                Assert.Contains("database \"no_such_database\" does not exist", line);
            }
            else if (connectionString == foreign)
            {
                Assert.Contains("orleansquery", line);
            }
        }

        Directory.Delete(home, recursive: true);
    }

    [Fact]
    public async Task An_unknown_command_is_a_usage_error()
    {
        var (exitCode, output) = await OgwProcess.RunAsync(new Dictionary<string, string>(), "frobnicate");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("frobnicate", output);
    }

    [Fact]
    public async Task Help_is_a_command_too_and_help_of_no_such_command_is_a_usage_error()
    {
        var none = new Dictionary<string, string>();

        var help = await OgwProcess.RunAsync(none, "help");
        var dbStatus = await OgwProcess.RunAsync(none, "help", "db", "status");
        var nosuch = await OgwProcess.RunAsync(none, "help", "nosuch");
        var dbNosuch = await OgwProcess.RunAsync(none, "help", "db", "nosuch");
        var bare = await OgwProcess.RunAsync(none);

        Assert.True(help.ExitCode == 0, help.Output);
        Assert.Equal((await OgwProcess.RunAsync(none, "--help")).Output, help.Output);
        Assert.True(dbStatus.ExitCode == 0, dbStatus.Output);
        Assert.Equal((await OgwProcess.RunAsync(none, "db", "status", "--help")).Output, dbStatus.Output);
        Assert.Contains("--cluster-id", dbStatus.Output);
        Assert.Equal((ExitCodes.Usage, "ogw: help: `ogw` has no command 'nosuch'; `ogw --help` lists them"), (nosuch.ExitCode, nosuch.Output));
        Assert.Equal((ExitCodes.Usage, "ogw: help: `ogw db` has no command 'nosuch'; `ogw db --help` lists them"), (dbNosuch.ExitCode, dbNosuch.Output));
        // `ogw` alone shows the help, and did nothing.
        Assert.Equal(ExitCodes.Usage, bare.ExitCode);
        Assert.Contains(help.Output.Split('\n')[0], bare.Output);
    }

    [Fact]
    public async Task A_bad_option_of_up_is_a_usage_error_before_anything_starts()
    {
        var home = Directory.CreateTempSubdirectory("ogw-home-").FullName;
        var environment = new Dictionary<string, string> { ["OGW_HOME"] = home };

        var (exitCode, output) = await OgwProcess.RunAsync(environment, "up", "--silos", "0");

        Assert.Equal((ExitCodes.Usage, $"ogw: --silos must be between 1 and {LocalClusterSpec.MaxSilos}"), (exitCode, output));
        Assert.Empty(Directory.EnumerateFileSystemEntries(home));
        Directory.Delete(home, recursive: true);
    }

    [Fact]
    public async Task Up_runs_a_three_silo_cluster_and_its_dashboard_that_answer_and_stop_on_ctrl_c()
    {
        var home = Directory.CreateTempSubdirectory("ogw-home-").FullName;
        var connectionString = await postgres.CreateDatabaseAsync("up");
        var (http, silo, gateway, dashboardPort) = (FreePorts.Run(3), FreePorts.Run(3), FreePorts.Run(3), FreePorts.Run(1));
        const string token = "up-test-operator-token";
        const string apiKey = "up-test-api-key-0123456789";
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = connectionString,
            ["Orleans__ClusterId"] = $"up-{Guid.NewGuid():N}"[..12],
            ["OGW_HOME"] = home,
            ["OGW_OPERATOR_TOKEN"] = token,
            ["OGW_API_KEY"] = apiKey,
        };
        await using var up = OgwProcess.Start(environment, "up", "--http-port", $"{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}",
            "--dashboard-port", $"{dashboardPort}");

        await up.WaitForOutputAsync("Cluster ready", TimeSpan.FromSeconds(180));
        Assert.Contains($"Dashboard: http://127.0.0.1:{dashboardPort}/  operator token: {token}", up.Output);

        // The dashboard is up with the token it printed, and sees the three silos.
        using (var dashboard = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dashboardPort}/") })
        {
            dashboard.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var silos = await dashboard.GetFromJsonAsync<JsonElement>("api/operator/silos");
            Assert.Equal(["Active", "Active", "Active"], silos.EnumerateArray().Select(s => s.GetProperty("status").GetString()));
        }

        // The cluster answers the README's curl examples with the key it printed: post on one silo, read from another.
        Assert.Contains($"API key of client local: {apiKey}", up.Output);
        using var first = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/") };
        using (var keyless = await first.PostAsJsonAsync("api/sessions/demo/messages", new { text = "work 3x100" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, keyless.StatusCode);
        }

        using var third = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http + 2}/") };
        foreach (var client in new[] { first, third })
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        using (var posted = await first.PostAsJsonAsync("api/sessions/demo/messages", new { text = "work 3x100" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        JsonElement session = default;
        await Eventually.UntilAsync(async () =>
            {
                session = await third.GetFromJsonAsync<JsonElement>("api/sessions/demo");
                return session.GetProperty("phase").GetString() == "idle";
            },
            TimeSpan.FromSeconds(30), () => session.ToString());
        Assert.Equal("done 3 steps", session.GetProperty("turns")[0].GetProperty("reply").GetString());

        var status = await OgwProcess.RunAsync(environment, "db", "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Equal(3, status.Output.Split("Active").Length - 1);

        // End to end: the operator CLI against the real dashboard, and a rolling restart of this very cluster
        // through it; ogw up brings every restarted silo back.
        var dashboardUrl = $"http://127.0.0.1:{dashboardPort}/";
        var operatorStatus = await OgwProcess.RunAsync(environment, "status", "--url", dashboardUrl, "--json");
        Assert.True(operatorStatus.ExitCode == 0, operatorStatus.Output);
        Assert.Equal(3, JsonDocument.Parse(operatorStatus.Output).RootElement.GetProperty("silos").GetArrayLength());
        var suspend = await OgwProcess.RunAsync(environment, "suspend", "demo", "--url", dashboardUrl);
        Assert.True(suspend.ExitCode == 0, suspend.Output);
        // The session in full, read as strictly as every answer: the summary's fields, the detail's, and the history.
        var detail = await OgwProcess.RunAsync(environment, "session", "demo", "--url", dashboardUrl);
        Assert.True(detail.ExitCode == 0, detail.Output);
        Assert.Contains("suspended", detail.Output);
        Assert.Contains("done 3 steps", detail.Output);
        var resumeIdle = await OgwProcess.RunAsync(environment, "resume", "nobody-at-all", "--url", dashboardUrl);
        Assert.Equal(1, resumeIdle.ExitCode);

        await using (var demo = OgwProcess.Start(environment, "demo", "rolling-restart", "--attach", "--url", dashboardUrl,
            "--http-port", $"{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}", "--sessions", "6", "--steps", "12", "--step-ms", "500"))
        {
            Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(240)), $"the attached demo did not finish:\n{demo.Output}\n{up.Output}");
            Assert.True(demo.ExitCode == 0, $"{demo.Output}\n{up.Output}");
            Assert.Matches(new Regex(@"^lost +0\b", RegexOptions.Multiline), demo.Output);
        }

        Assert.Equal(3, up.Output.Split("is back at").Length - 1);

        // A dashboard that dies is started again by ogw up, on its port with its token; the silos run on.
        System.Diagnostics.Process.GetProcessById(FreePorts.ListeningProcessId(dashboardPort)).Kill();
        await up.WaitForOutputAsync("The dashboard is back", TimeSpan.FromSeconds(120));
        Assert.Contains("The dashboard exited with code 137", up.Output);
        var afterCrash = await OgwProcess.RunAsync(environment, "status", "--url", dashboardUrl, "--json");
        Assert.True(afterCrash.ExitCode == 0, afterCrash.Output);

        up.Signal(PosixSignals.Interrupt);
        Assert.True(await up.WaitForExitAsync(TimeSpan.FromSeconds(120)), $"ogw up did not stop:\n{up.Output}");
        Assert.Equal(0, up.ExitCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.False(FreePorts.IsListening(http + i), $"silo {i + 1} still answers on {http + i}");
        }

        Assert.False(FreePorts.IsListening(dashboardPort), $"the dashboard still answers on {dashboardPort}");
        Assert.True(File.Exists(Path.Combine(home, "logs", "silo1.log")));
        Assert.True(File.Exists(Path.Combine(home, "logs", "dashboard.log")));
        Directory.Delete(home, recursive: true);
    }
}
