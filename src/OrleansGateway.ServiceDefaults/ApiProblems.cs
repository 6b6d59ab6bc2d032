using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansGateway.ServiceDefaults;

/// <summary>
/// Every error of the silo's and the dashboard's APIs: <c>application/problem+json</c> (RFC 9457) with <c>title</c>,
/// <c>status</c>, <c>detail</c> (the reason) and <c>traceId</c>, plus <c>error</c>, the same reason, which clients
/// read since release 0.1 (whose silos answer <c>{"error": "..."}</c> alone). The refusals of the endpoints, the
/// exception handler and the status pages of unknown routes and methods all go through <see cref="ApiProblemWriter"/>.
/// </summary>
public static class ApiProblems
{
    /// <summary>The member that 0.1 clients read.</summary>
    public const string ErrorMember = "error";

    public const string ContentType = "application/problem+json";

    public static IServiceCollection AddApiProblems(this IServiceCollection services)
    {
        // Before AddProblemDetails: the first writer that can write wins, and ours writes whatever the Accept header says.
        services.AddSingleton<IProblemDetailsWriter, ApiProblemWriter>();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>Fills the empty 4xx and 5xx answers of routing (unknown route, method not allowed) with a problem.</summary>
    public static IApplicationBuilder UseApiStatusPages(this IApplicationBuilder app) => app.UseStatusCodePages();

    public static IResult Result(int statusCode, string reason) => TypedResults.Problem(detail: reason, statusCode: statusCode,
        extensions: new Dictionary<string, object?> { [ErrorMember] = reason });

    /// <summary>What a problem without a detail says: the status pages and the exception handler give none.</summary>
    internal static string DefaultReason(HttpContext context, int status)
    {
        var request = $"{context.Request.Method} {Bounded(context.Request.Path.Value ?? "/")}";
        return status switch
        {
            StatusCodes.Status404NotFound => $"nothing answers {request}",
            StatusCodes.Status405MethodNotAllowed => $"{request}: the method is not allowed here",
            StatusCodes.Status500InternalServerError => $"internal error (trace id {context.TraceIdentifier})",
            _ => $"{request}: {ReasonPhrases.GetReasonPhrase(status)}",
        };
    }

    // A path may be anything a client sent: the problem repeats no more than a line of it.
    private static string Bounded(string text) => text.Length <= 200 ? text : $"{text[..200]}...";

    internal static string TraceId(HttpContext context) => Activity.Current?.Id ?? context.TraceIdentifier;
}
