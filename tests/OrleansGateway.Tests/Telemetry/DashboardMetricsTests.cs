using System.Net;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Telemetry;

/// <summary>The dashboard process serves its own metrics to a scraper without the operator's token.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardMetricsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_dashboard_serves_metrics_without_a_token()
    {
        var logs = Path.Combine(AppContext.BaseDirectory, "silo-logs", "dashboard-metrics");
        Directory.CreateDirectory(logs);
        await using var dashboard = await DashboardHarness.StartAsync(await postgres.CreateMigratedDatabaseAsync("otel_dash"),
            $"metrics-{Guid.NewGuid():N}"[..16], logs, waitForCluster: false);
        using var client = dashboard.Client(token: null);

        // A request first, so that ASP.NET Core's request duration has a series.
        await client.GetAsync("healthz");
        using var response = await client.GetAsync("metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("http_server_request_duration_seconds_bucket", text);
        Assert.Contains("target_info", text);
    }
}
