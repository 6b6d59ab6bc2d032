using System.Security.Claims;
using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.Operations;

namespace OrleansGateway.Dashboard.Api;

/// <summary><c>/api/operator/silos</c>: the silos, and asking one to drain or restart.</summary>
public static class SiloEndpoints
{
    public static void MapSiloEndpoints(RouteGroupBuilder read, RouteGroupBuilder act)
    {
        read.MapGet("/silos", (SiloDirectory silos, CancellationToken cancellationToken) => silos.ListAsync(cancellationToken));
        act.MapPost("/silos/{address}/drain", (string address, SiloDirectory silos, ClusterSettings cluster, OperatorAudit audit, ClaimsPrincipal user) =>
            StopAsync(address, SiloStopKind.Drain, silos, cluster, audit, user));
        act.MapPost("/silos/{address}/restart", (string address, SiloDirectory silos, ClusterSettings cluster, OperatorAudit audit, ClaimsPrincipal user) =>
            StopAsync(address, SiloStopKind.Restart, silos, cluster, audit, user));
    }

    private static async Task<IResult> StopAsync(string address, SiloStopKind kind, SiloDirectory silos, ClusterSettings cluster, OperatorAudit audit,
        ClaimsPrincipal user)
    {
        var action = kind == SiloStopKind.Restart ? "restart" : "drain";
        var silo = await silos.FindActiveAsync(address, CancellationToken.None);
        if (silo is null)
        {
            var reason = $"{address} is not an active silo of cluster {cluster.ClusterId}";
            await audit.RecordAsync(user, action, sessionId: null, address, reason);
            return ApiErrors.NotFound(reason);
        }

        SiloReport report;
        try
        {
            report = await silos.RequestStopAsync(address, kind);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            var reason = $"{silo.SiloName} ({address}) did not take the request: {exception.GetBaseException().Message}";
            await audit.RecordAsync(user, action, sessionId: null, address, reason);
            return ApiErrors.Unavailable(reason);
        }

        var result = kind == SiloStopKind.Restart
            ? $"{silo.SiloName} restarts; its sessions are premarked restart_timeout"
            : $"{silo.SiloName} drains and stops; its sessions are premarked shutdown_timeout";
        await audit.RecordAsync(user, action, sessionId: null, address, result);
        return TypedResults.Ok(SiloReportResponse.From(report));
    }
}
