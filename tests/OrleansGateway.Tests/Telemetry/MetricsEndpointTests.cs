using System.Text.Json;
using System.Net.Http.Json;
using OrleansGateway.Telemetry;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Telemetry;

/// <summary>
/// A silo's <c>/metrics</c>, scraped as Prometheus would after it completed a turn and resumed one that a draining silo
/// interrupted: every metric the Grafana dashboard and the alert rules query must be there, else a panel stays empty or
/// an alert can never fire, and nothing else would say so.
/// </summary>
/// <remarks>
/// Silos in this process (<see cref="HttpSiloCluster"/>, the programs' telemetry wiring): a silo process that drains
/// exits within milliseconds of recording its drain, before a scrape can read it (OTLP's final export on shutdown is
/// what carries a drain out of a real process). In one process the surviving silo's exporter also reads the stopped
/// silo's meter, which lives until the cluster is disposed, so its drain is scraped for certain.
/// </remarks>
[Collection(PostgresCollection.Name)]
public sealed class MetricsEndpointTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Every_metric_the_dashboard_and_the_alerts_query_is_exported()
    {
        var required = MonitoringQueries.GrafanaExpressions().Concat(MonitoringQueries.AlertExpressions())
            .SelectMany(MonitoringQueries.MetricNames).ToHashSet();
        await using var cluster = await HttpSiloCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("otel"), silos: 2,
            new Dictionary<string, string?>
            {
                [HttpSiloCluster.TelemetryKey] = "true",
                // The drain times out at once on the turn's ten-minute step, and the interrupted turn checkpoints.
                ["Gateway:Resume:DrainTimeout"] = "00:00:01",
                ["Gateway:Resume:InterruptGrace"] = "00:00:03",
                ["Gateway:Resume:StopIntent"] = "Restart",
                ["Gateway:Resume:SweepInterval"] = "00:00:01",
            });
        using var survivor = cluster.ClientFor(0);
        using var stopping = cluster.ClientFor(1);
        using var spans = new SpanRecorder();

        (await survivor.PostAsJsonAsync("api/sessions/done/messages", new { text = "hello" })).EnsureSuccessStatusCode();
        await Eventually.UntilAsync(async () => await PhaseAsync(survivor, "done") == "idle", TimeSpan.FromSeconds(15),
            () => "the hello turn did not complete");
        // The ledger says idle a moment before the turn's span ends: its end is written from inside it.
        await Eventually.UntilAsync(() => Task.FromResult(spans.Of("ogw.turn", "done").Count > 0), TimeSpan.FromSeconds(15),
            () => "the turn's span did not end");
        AssertTheTurnJoinsTheRequestsTrace(spans);
        (await stopping.PostAsJsonAsync("api/sessions/resumed/messages", new { text = "work 2x600000" })).EnsureSuccessStatusCode();

        // Premark, drain timeout, interrupt on silo 1; the claim and the resume lag on silo 0.
        await cluster.StopSiloAsync(1);
        await Eventually.UntilAsync(async () => await PhaseAsync(survivor, "resumed") == "running", TimeSpan.FromSeconds(20),
            () => "the surviving silo did not resume the session");

        // The ledger's gauges move to the survivor within a refresh period when the stopped silo was their publisher.
        var exported = new HashSet<string>();
        await Eventually.UntilAsync(async () => required.IsSubsetOf(exported = await ScrapeAsync(survivor)),
            ClusterGauges.RefreshInterval * 2, () => $"queried but not exported: {string.Join(", ", required.Except(exported).Order())}");
    }

    /// <summary>
    /// The accept runs inside the HTTP request's trace, under Orleans' grain call; the turn is a root of its own that
    /// links to the accept (it outlives the request), and its step is its child.
    /// </summary>
    private static void AssertTheTurnJoinsTheRequestsTrace(SpanRecorder spans)
    {
        var accept = Assert.Single(spans.Of("ogw.accept", "done"));
        var request = spans.Ended.Where(span => span.Source.Name == "Microsoft.AspNetCore" && span.TraceId == accept.TraceId);
        Assert.NotEmpty(request);
        Assert.Contains(spans.Ended, span => span.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && span.SpanId == accept.ParentSpanId);
        var turn = Assert.Single(spans.Of("ogw.turn", "done"));
        Assert.NotEqual(accept.TraceId, turn.TraceId);
        Assert.Contains(turn.Links, link => link.Context.SpanId == accept.SpanId);
        Assert.Equal(turn.SpanId, Assert.Single(spans.Of("ogw.step", "done")).ParentSpanId);
    }

    private static async Task<string?> PhaseAsync(HttpClient client, string sessionId)
    {
        using var response = await client.GetAsync($"api/sessions/{sessionId}");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("phase").GetString() : null;
    }

    /// <summary>The sample names of one scrape (a histogram's as <c>_bucket</c>, <c>_sum</c> and <c>_count</c>).</summary>
    private static async Task<HashSet<string>> ScrapeAsync(HttpClient client)
    {
        var text = await client.GetStringAsync("metrics");
        return text.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line[..line.IndexOfAny(['{', ' '])])
            .ToHashSet();
    }
}
