using System.Security.Claims;
using Microsoft.AspNetCore.Diagnostics;
using OrleansGateway.Dashboard.Auth;
using OrleansGateway.Operations;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// The operator API under <c>/api/operator</c>: every GET needs the <see cref="OperatorPolicies.Read"/> policy, every POST
/// <see cref="OperatorPolicies.Act"/>. The `ogw` operator commands and the page are its clients.
/// </summary>
public static class OperatorApi
{
    public const string Prefix = "/api/operator";

    public static IServiceCollection AddOperatorApi(this IServiceCollection services) => services
        .AddApiProblems()
        .AddApiDocument("OrleansGateway operator API",
            "The dashboard's view of the cluster: silos, the session ledger, the event history, and the operator's actions. "
            + "Needs Authorization: Bearer <operator token>. Every error is application/problem+json whose error member repeats the detail.");

    /// <summary>
    /// First in the pipeline: an exception becomes a 500 problem (logged, its trace id in the answer, never its stack),
    /// and the empty 404 and 405 of routing become problems too.
    /// </summary>
    public static IApplicationBuilder UseOperatorApiErrors(this IApplicationBuilder app) =>
        app.UseExceptionHandler(new ExceptionHandlerOptions()).UseApiStatusPages();

    public static IEndpointRouteBuilder MapOperatorApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(Prefix).WithTags("operator")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        var read = api.MapGroup("").RequireAuthorization(OperatorPolicies.Read);
        var act = api.MapGroup("").RequireAuthorization(OperatorPolicies.Act)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        read.MapGet("/me", (ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, Name: { } name }
            ? new CallerResponse(name, CanAct: true)
            : new CallerResponse(null, CanAct: false)).WithSummary("Who the token is, and whether it may act");
        SiloEndpoints.MapSiloEndpoints(read, act);
        OperatorSessionEndpoints.MapSessionEndpoints(read, act);
        EventEndpoints.MapEventEndpoints(read);
        OverviewEndpoints.MapOverviewEndpoints(read);
        read.MapGet("/counts/history", (PhaseCountHistory history) =>
            new CountHistoryResponse(history.Samples, PhaseCountHistory.Interval.TotalSeconds))
            .WithSummary("The session counts by phase over the last hour");
        return endpoints;
    }
}
