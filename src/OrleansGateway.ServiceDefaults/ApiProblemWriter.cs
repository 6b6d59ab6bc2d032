using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace OrleansGateway.ServiceDefaults;

/// <summary>
/// Writes every problem of the APIs, whatever the request accepts: ASP.NET's own writer declines a request that asks
/// for HTML only, and the status pages would then answer in plain text. The exception (if any) is never written.
/// </summary>
internal sealed class ApiProblemWriter(IOptions<JsonOptions> jsonOptions) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        var status = problem.Status ??= http.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(status);
        problem.Detail ??= ApiProblems.DefaultReason(http, status);
        problem.Extensions.TryAdd("traceId", ApiProblems.TraceId(http));

        // What ASP.NET's developer exception page adds in Development: the exception with its stack, never for a client.
        problem.Extensions.Remove("exception");
        problem.Extensions.TryAdd(ApiProblems.ErrorMember, problem.Detail);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, jsonOptions.Value.SerializerOptions, ApiProblems.ContentType));
    }
}
