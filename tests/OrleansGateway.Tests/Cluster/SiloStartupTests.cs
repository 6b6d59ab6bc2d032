using System.Net;
using System.Net.Sockets;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cluster;

/// <summary>A silo that cannot work ends at once with one line that says why, and a non-zero exit.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SiloStartupTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_missing_connection_string_ends_the_process_with_a_reason()
    {
        await using var cluster = new SiloProcessCluster("unused");
        var silo = cluster.Launch("no-db", connectionStringOverride: "");

        await AssertFailsFastAsync(silo, "ConnectionStrings:Postgres is not set");
    }

    [Fact]
    public async Task An_unreachable_database_ends_the_process_with_a_reason()
    {
        await using var cluster = new SiloProcessCluster("unused");
        var silo = cluster.Launch("unreachable", connectionStringOverride: $"Host=127.0.0.1;Port={PostgresFixture.FreeTcpPort()};Username=postgres");

        await AssertFailsFastAsync(silo, "cannot reach PostgreSQL at 127.0.0.1:");
    }

    [Fact]
    public async Task A_database_without_the_schema_ends_the_process_with_the_fix()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateDatabaseAsync("bare"));
        var silo = cluster.Launch("bare");

        await AssertFailsFastAsync(silo, "run `ogw db migrate`");
    }

    [Fact]
    public async Task A_silo_port_in_use_ends_the_process_with_a_reason()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("ports"));
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var silo = cluster.Launch("busy-silo-port", new Dictionary<string, string> { ["Orleans__SiloPort"] = port.ToString() });

        await AssertFailsFastAsync(silo, $"Orleans:SiloPort {port} on 127.0.0.1 is not available");
    }

    [Fact]
    public async Task An_http_port_in_use_ends_the_process_with_a_reason_before_it_joins_the_cluster()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("ports"));
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var silo = cluster.Launch("busy-http-port", new Dictionary<string, string> { ["Urls"] = $"http://127.0.0.1:{port}" });

        await AssertFailsFastAsync(silo, $"Urls: http://127.0.0.1:{port} is not available");
        // Found by Kestrel instead, once the silo had joined, it would leave an Active membership row until voted dead.
        Assert.Empty(await MembershipAsync(cluster));
    }

    [Fact]
    public async Task A_start_that_fails_after_the_silo_joined_the_cluster_leaves_it_gracefully()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("late"));
        // Kestrel loads the certificate of an https URL when it binds, after Orleans has started: no check before the
        // start sees it.
        var silo = cluster.Launch("late-failure", new Dictionary<string, string>
        {
            ["Urls"] = $"https://127.0.0.1:{PostgresFixture.FreeTcpPort()}",
            ["Kestrel__Certificates__Default__Path"] = "/nonexistent/ogw-test.pfx",
            ["Kestrel__Certificates__Default__Password"] = "unused",
        });

        await AssertFailsFastAsync(silo, "ogw-test.pfx", TimeSpan.FromSeconds(90));
        var row = Assert.Single(await MembershipAsync(cluster));
        Assert.Equal("Dead", row.Status);
    }

    [Fact]
    public async Task Invalid_orleans_settings_end_the_process_with_every_problem_named()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("settings"));
        var silo = cluster.Launch("bad-settings", new Dictionary<string, string> { ["Orleans__SiloPort"] = "70000", ["Orleans__ClusterId"] = " " });

        await AssertFailsFastAsync(silo, "Orleans:ClusterId must not be empty; Orleans:SiloPort must be a port number (1-65535), not 70000");
    }

    [Fact]
    public async Task An_Orleans_key_and_its_alias_with_different_values_end_the_process_naming_both()
    {
        await using var cluster = new SiloProcessCluster("unused");
        var silo = cluster.Launch("two-names", new Dictionary<string, string> { ["Orleans__Endpoints__SiloPort"] = "12999" });

        // The harness sets Orleans__SiloPort for every silo it launches.
        await AssertFailsFastAsync(silo, "and Orleans:Endpoints:SiloPort (12999) disagree; set only one of them");
    }

    [Fact]
    public async Task A_drain_budget_larger_than_the_shutdown_timeout_is_refused_when_strict()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("budget"));
        var silo = cluster.Launch("strict", new Dictionary<string, string>
        {
            ["Gateway__Resume__DrainTimeout"] = "00:01:00",
            ["Gateway__Resume__StrictBudget"] = "true",
        });

        await AssertFailsFastAsync(silo, "drain budget 70 s (DrainTimeout 60 s + InterruptGrace 5 s + StopMargin 5 s) exceeds the host's shutdown timeout 30 s");
    }

    [Fact]
    public async Task A_drain_budget_larger_than_the_shutdown_timeout_is_a_warning_with_the_numbers_by_default()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("budget"));
        var silo = await cluster.StartSiloAsync("lenient", new Dictionary<string, string> { ["Gateway__Resume__DrainTimeout"] = "00:01:00" });

        Assert.Contains("drain budget 70 s (DrainTimeout 60 s + InterruptGrace 5 s + StopMargin 5 s) exceeds the host's shutdown timeout 30 s", silo.ReadLog());
    }

    [Fact]
    public async Task Invalid_resume_settings_end_the_process_with_a_reason()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("budget"));
        var silo = cluster.Launch("invalid", new Dictionary<string, string> { ["Gateway__Resume__MaxAttempts"] = "0" });

        await AssertFailsFastAsync(silo, "Gateway:Resume:MaxAttempts must be at least 1, not 0");
    }

    [Fact]
    public async Task Invalid_event_retention_settings_end_the_process_with_a_reason()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("retention"));
        var silo = cluster.Launch("forgetful", new Dictionary<string, string> { ["Gateway__Events__Retention"] = "00:00:00" });

        await AssertFailsFastAsync(silo, "Gateway:Events:Retention must be positive, not 00:00:00");
    }

    [Fact]
    public async Task A_version_that_does_not_parse_ends_the_process_with_a_reason()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("version"));
        var silo = cluster.Launch("unversioned", new Dictionary<string, string> { ["Gateway__Version"] = "next" });

        await AssertFailsFastAsync(silo, "Gateway:Version must be a version such as 0.2.1 or 0.3.0-rc.1, not 'next'");
    }

    [Fact]
    public async Task Invalid_agent_settings_end_the_process_with_a_reason_and_without_the_api_key()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("agent"));
        var silo = cluster.Launch("no-model", new Dictionary<string, string>
        {
            ["Gateway__Agent__Provider"] = "openai",
            ["Gateway__Agent__OpenAI__Endpoint"] = "http://127.0.0.1:1/v1",
            ["Gateway__Agent__OpenAI__ApiKey"] = "sk-startup-secret",
        });

        await AssertFailsFastAsync(silo, "Gateway:Agent:OpenAI:Model is required when Gateway:Agent:Provider is openai");
        Assert.DoesNotContain("sk-startup-secret", silo.ReadLog());
    }

    private static async Task<IReadOnlyList<SiloRow>> MembershipAsync(SiloProcessCluster cluster)
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        return await new MembershipTable(dataSource).ReadSilosAsync(cluster.ClusterId);
    }

    private static async Task AssertFailsFastAsync(SiloProcess silo, string reason, TimeSpan? timeout = null)
    {
        Assert.True(await silo.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(30)), $"the silo kept running:\n{silo.ReadLog()}");
        Assert.Equal(1, silo.ExitCode);
        var lines = silo.ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.StartsWith("ogw-silo: cannot start:", StringComparison.Ordinal));
        Assert.Contains(reason, line);
    }
}
