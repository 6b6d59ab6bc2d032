using OrleansGateway.Resume;

namespace OrleansGateway.Http;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Liveness: the process answers. Restarting it for anything else would only make things worse.
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok"));

        // Readiness: send traffic here only while the silo is Active in the cluster and not draining.
        endpoints.MapGet("/readyz", (SiloRunState runState) => runState.IsReady
            ? TypedResults.Text("ready")
            : Problem.Unavailable(runState.IsDraining ? "draining" : "not active"));
        return endpoints;
    }
}
