using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Hosting;

public static class DashboardHealthEndpoints
{
    /// <summary>
    /// Readiness: the database answers (every listing reads it) and the Orleans cluster is reachable, so that actions
    /// and turns work.
    /// </summary>
    public static IServiceCollection AddDashboardHealthChecks(this IServiceCollection services)
    {
        services.AddGatewayHealthChecks().AddCheck<ClusterReadiness>("cluster", tags: [HealthProbes.ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Without a token: probes carry none.
        foreach (var probe in endpoints.MapGatewayHealthChecks())
        {
            probe.AllowAnonymous();
        }

        return endpoints;
    }

    private sealed class ClusterReadiness(ClusterConnection connection) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(connection.IsConnected
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("not connected to the Orleans cluster (no silo reachable yet)"));
    }
}
