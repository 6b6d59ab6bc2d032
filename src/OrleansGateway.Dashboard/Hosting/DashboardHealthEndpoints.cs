using OrleansGateway.Dashboard.Api;

namespace OrleansGateway.Dashboard.Hosting;

public static class DashboardHealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Liveness: the process answers.
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok")).AllowAnonymous();

        // Readiness: connected to the Orleans cluster, so that actions and turns work (listings work without).
        endpoints.MapGet("/readyz", (ClusterConnection connection) => connection.IsConnected
            ? TypedResults.Text("ready")
            : ApiErrors.Unavailable("not connected to the Orleans cluster (no silo reachable yet)")).AllowAnonymous();
        return endpoints;
    }
}
