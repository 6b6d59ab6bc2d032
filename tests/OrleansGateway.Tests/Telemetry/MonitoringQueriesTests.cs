namespace OrleansGateway.Tests.Telemetry;

public sealed class MonitoringQueriesTests
{
    [Fact]
    public void A_metric_name_is_found_without_its_labels_functions_and_ranges()
    {
        var names = MonitoringQueries.MetricNames(
            "histogram_quantile(0.99, sum by (le, ogw_outcome) (rate(ogw_drain_duration_seconds_bucket{ogw_outcome=\"timed_out\"}[$__rate_interval]))) > 60 and max(ogw_sessions_stale) > 0");
        Assert.Equal(["ogw_drain_duration_seconds_bucket", "ogw_sessions_stale"], names.Order());
    }

    [Fact]
    public void The_dashboard_and_the_alert_rules_query_the_gateways_metrics()
    {
        var grafana = MonitoringQueries.GrafanaExpressions().SelectMany(MonitoringQueries.MetricNames).ToHashSet();
        var alerts = MonitoringQueries.AlertExpressions().SelectMany(MonitoringQueries.MetricNames).ToHashSet();
        Assert.Contains("ogw_resume_lag_seconds_bucket", grafana);
        Assert.Contains("ogw_sessions_stale", alerts);
        Assert.All(grafana.Concat(alerts), name => Assert.StartsWith("ogw_", name));
    }
}
