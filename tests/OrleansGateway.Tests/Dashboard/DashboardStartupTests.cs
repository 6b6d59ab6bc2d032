using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Dashboard;

/// <summary>A dashboard that cannot work refuses to start, in one line, with exit code 1.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardStartupTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_dashboard_without_a_token_a_database_or_the_current_schema_refuses_to_start_in_one_line()
    {
        var migrated = await postgres.CreateMigratedDatabaseAsync("dashstart");
        var unmigrated = await postgres.CreateDatabaseAsync("dashbare");
        var unreachable = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = PostgresFixture.FreeTcpPort(), Username = "postgres", Timeout = 3 }.ConnectionString;
        const string token = DashboardHarness.OperatorToken;
        (string Case, string ConnectionString, string? Token, Dictionary<string, string> Environment, string Expected)[] cases =
        [
            ("no token", migrated, null, [], "no operator token is configured"),
            ("no connection string", migrated, token, new() { ["ConnectionStrings__Postgres"] = "" }, "ConnectionStrings:Postgres is not set"),
            ("unreachable database", unreachable, token, [], $"cannot reach PostgreSQL at 127.0.0.1:"),
            ("schema not applied", unmigrated, token, [], "the database has no gateway schema; run `ogw db migrate`"),
            ("one token under two names", migrated, token, new() { ["Dashboard__OperatorTokens__alice"] = token }, "the operator tokens alice and operator are the same token"),
        ];
        var logs = Directory.CreateTempSubdirectory("ogw-dashstart-").FullName;

        var outcomes = await Task.WhenAll(cases.Select(async c =>
        {
            await using var dashboard = DashboardProcess.Start(new DashboardProcessSettings(c.ConnectionString, "dashstart", PostgresFixture.FreeTcpPort(),
                Path.Combine(logs, $"{c.Case.Replace(' ', '-')}.log")) { OperatorToken = c.Token, Environment = c.Environment });
            var exited = await dashboard.WaitForExitAsync(TimeSpan.FromSeconds(60));
            return (c.Case, c.Expected, Exited: exited, ExitCode: exited ? dashboard.ExitCode : -1, Output: dashboard.ReadLog());
        }));

        foreach (var outcome in outcomes)
        {
            Assert.True(outcome.Exited, $"{outcome.Case}: the dashboard did not exit:\n{outcome.Output}");
            Assert.True(outcome.ExitCode == 1, $"{outcome.Case}: exit code {outcome.ExitCode}:\n{outcome.Output}");
            var line = Assert.Single(outcome.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.StartsWith("ogw-dashboard: cannot start: ", line);
            Assert.Contains(outcome.Expected, line);
        }

        Directory.Delete(logs, recursive: true);
    }
}
