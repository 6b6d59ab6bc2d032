using System.Security.Claims;
using OrleansGateway.Dashboard.Auth;
using OrleansGateway.Operations;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// The operator API under <c>/api/operator</c>: every GET needs the <see cref="OperatorPolicies.Read"/> policy, every POST
/// <see cref="OperatorPolicies.Act"/>. The `ogw` operator commands and the page are its clients.
/// </summary>
public static class OperatorApi
{
    public const string Prefix = "/api/operator";

    public static IEndpointRouteBuilder MapOperatorApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(Prefix);
        var read = api.MapGroup("").RequireAuthorization(OperatorPolicies.Read);
        var act = api.MapGroup("").RequireAuthorization(OperatorPolicies.Act);

        read.MapGet("/me", (ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, Name: { } name }
            ? new CallerResponse(name, CanAct: true)
            : new CallerResponse(null, CanAct: false));
        SiloEndpoints.MapSiloEndpoints(read, act);
        OperatorSessionEndpoints.MapSessionEndpoints(read, act);
        EventEndpoints.MapEventEndpoints(read);
        read.MapGet("/counts/history", (PhaseCountHistory history) =>
            new CountHistoryResponse(history.Samples, PhaseCountHistory.Interval.TotalSeconds));
        return endpoints;
    }
}
