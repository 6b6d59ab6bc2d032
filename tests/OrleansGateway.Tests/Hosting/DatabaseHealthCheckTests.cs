using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Hosting;

/// <summary>The database's part of <c>/readyz</c>, for the silo and the dashboard alike.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseHealthCheckTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_database_that_answers_is_healthy()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync("health"));

        var result = await new DatabaseHealthCheck(dataSource).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task An_unreachable_database_is_unhealthy_with_a_reason_and_quickly()
    {
        // Nothing listens there; the connection string's own timeout (15 s) is longer than the probe may take.
        var unreachable = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = PostgresFixture.FreeTcpPort(), Username = "postgres", Timeout = 15 };
        await using var dataSource = NpgsqlDataSource.Create(unreachable.ConnectionString);
        var clock = Stopwatch.StartNew();

        var result = await new DatabaseHealthCheck(dataSource).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith("the database", result.Description);
        Assert.True(clock.Elapsed < DatabaseHealthCheck.Timeout + TimeSpan.FromSeconds(3), $"the check took {clock.Elapsed}");
    }
}
