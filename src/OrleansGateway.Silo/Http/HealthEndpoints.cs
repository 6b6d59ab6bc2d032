using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansGateway.Resume;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Http;

public static class HealthEndpoints
{
    /// <summary>Readiness: the database answers, and the silo is Active in the cluster and not draining.</summary>
    public static IServiceCollection AddSiloHealthChecks(this IServiceCollection services)
    {
        services.AddGatewayHealthChecks().AddCheck<SiloReadiness>("silo", tags: [HealthProbes.ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGatewayHealthChecks();
        return endpoints;
    }

    /// <summary>Send traffic here only while the silo takes work: a draining silo still answers, but starts nothing new.</summary>
    private sealed class SiloReadiness(SiloRunState runState) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(runState.IsReady
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy(runState.IsDraining ? "draining" : "not active"));
    }
}
