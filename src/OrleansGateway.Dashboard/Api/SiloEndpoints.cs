using System.Security.Claims;
using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.Operations;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// <c>/api/operator/silos</c>: the silos, and asking one to drain or restart. The membership table says whether the
/// silo can be asked (404 when it is not in the cluster or Dead, 409 when it is not Active); the silo itself decides
/// whether it takes the request (409 when it is already stopping: an earlier request, SIGTERM, its drain).
/// </summary>
public static class SiloEndpoints
{
    public static void MapSiloEndpoints(RouteGroupBuilder read, RouteGroupBuilder act)
    {
        read.MapGet("/silos", (SiloDirectory silos, CancellationToken cancellationToken) => silos.ListAsync(cancellationToken))
            .WithSummary("The silos of the membership table, and what each says about itself");
        act.MapPost("/silos/{address}/drain", (string address, SiloDirectory silos, ClusterSettings cluster, OperatorAudit audit, ClaimsPrincipal user) =>
            StopAsync(address, SiloStopKind.Drain, silos, cluster, audit, user))
            .WithSummary("Ask an Active silo to drain and stop").Produces<SiloReportResponse>();
        act.MapPost("/silos/{address}/restart", (string address, SiloDirectory silos, ClusterSettings cluster, OperatorAudit audit, ClaimsPrincipal user) =>
            StopAsync(address, SiloStopKind.Restart, silos, cluster, audit, user))
            .WithSummary("Ask an Active silo to restart").Produces<SiloReportResponse>();
    }

    private static async Task<IResult> StopAsync(string address, SiloStopKind kind, SiloDirectory silos, ClusterSettings cluster, OperatorAudit audit,
        ClaimsPrincipal user)
    {
        var action = kind == SiloStopKind.Restart ? "restart" : "drain";
        var silo = await silos.FindAsync(address, CancellationToken.None);
        if (silo is null || silo.Status == SiloStatuses.Dead)
        {
            // Anything may be in the address of a refused request: the trail keeps a bounded, escaped form of it.
            var shown = AuditText.Bounded(address);
            var reason = silo is null
                ? $"{shown} is not an active silo of cluster {cluster.ClusterId}"
                : $"{silo.SiloName} ({address}) is Dead: not an active silo of cluster {cluster.ClusterId}";
            await audit.RecordAsync(user, action, sessionId: null, shown, reason);
            return ApiErrors.NotFound(reason);
        }

        if (silo.Status != SiloStatuses.Active)
        {
            var reason = $"{silo.SiloName} ({address}) is {silo.Status} in the membership table: only an Active silo can be drained or restarted";
            await audit.RecordAsync(user, action, sessionId: null, address, reason);
            return ApiErrors.Conflict(reason);
        }

        SiloStopAnswer answer;
        try
        {
            answer = await silos.RequestStopAsync(address, kind);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            var reason = $"{silo.SiloName} ({address}) did not take the request: {exception.GetBaseException().Message}";
            await audit.RecordAsync(user, action, sessionId: null, address, reason);
            return ApiErrors.Unavailable(reason);
        }

        if (!answer.Accepted)
        {
            var reason = $"{silo.SiloName} ({address}) is already stopping: {answer.Refusal}";
            await audit.RecordAsync(user, action, sessionId: null, address, reason);
            return ApiErrors.Conflict(reason);
        }

        var result = kind == SiloStopKind.Restart
            ? $"{silo.SiloName} restarts; its sessions are premarked restart_timeout"
            : $"{silo.SiloName} drains and stops; its sessions are premarked shutdown_timeout";
        await audit.RecordAsync(user, action, sessionId: null, address, result);
        return TypedResults.Ok(SiloReportResponse.From(answer.Report));
    }
}
