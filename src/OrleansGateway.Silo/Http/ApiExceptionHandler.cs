using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Sessions;

namespace OrleansGateway.Http;

/// <summary>
/// What the API answers when a request fails with an exception, instead of Kestrel's empty 500: a problem
/// (<see cref="ApiProblems"/>), 503 with <c>Retry-After</c> when the session's owner or storage is briefly unavailable
/// (a retry is likely to work: a repeated <c>messageId</c> starts nothing twice), else 500. Logged once, here.
/// </summary>
public static partial class ApiExceptionHandler
{
    private const int RetryAfterSeconds = 1;

    /// <summary>This handler, then the status pages: the empty 404 and 405 of routing become problems too.</summary>
    public static IApplicationBuilder UseApiExceptionHandler(this IApplicationBuilder app) =>
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = HandleAsync,
            // Logged below, with what the client was told; the middleware's own log would say it a second time.
            SuppressDiagnosticsCallback = _ => true,
        }).UseApiStatusPages();

    private static async Task HandleAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiExceptionHandler));
        var request = $"{context.Request.Method} {context.Request.Path}";
        IResult answer;
        if (TransientReason(exception) is { } reason)
        {
            LogTransient(logger, exception, request, reason);
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
            answer = Problem.Unavailable($"{reason}; retry the request");
        }
        else
        {
            LogFailed(logger, exception, request, context.TraceIdentifier);
            answer = Problem.Internal($"internal error (trace id {context.TraceIdentifier})");
        }

        await answer.ExecuteAsync(context);
    }

    /// <summary>The reason of a message refused by its session, or null for any other error.</summary>
    internal static string? RefusalReason(Exception exception) => exception switch
    {
        MessageRefusedException refused => refused.Message,
        // From another silo that could not recreate the type (it serialised it all the same).
        UnavailableExceptionFallbackException { ExceptionType: { } type } fallback when type.Contains(nameof(MessageRefusedException), StringComparison.Ordinal) =>
            fallback.Message,
        _ => null,
    };

    /// <summary>Why a retry will likely succeed, or null when the error is not known to be passing.</summary>
    internal static string? TransientReason(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            var reason = current switch
            {
                LedgerFenceException or InconsistentStateException => "the session moved to another activation",
                NpgsqlException => "the session's storage is unavailable",
                SiloUnavailableException or OrleansMessageRejectionException => "the silo of the session is unavailable",
                TimeoutException => "the session did not answer in time",
                // Orleans cancels a call whose grain directory partition was on a silo that just died; a client that left
                // reads no answer, so every cancellation that gets here is the cluster's.
                OperationCanceledException => "the cluster changed while the call was on its way",
                // An exception from another silo whose type this one could not recreate.
                UnavailableExceptionFallbackException { ExceptionType: { } type } when type.Contains(nameof(LedgerFenceException), StringComparison.Ordinal) =>
                    "the session moved to another activation",
                UnavailableExceptionFallbackException { ExceptionType: { } type } when type.StartsWith("Npgsql.", StringComparison.Ordinal) =>
                    "the session's storage is unavailable",
                _ => null,
            };
            if (reason is not null)
            {
                return reason;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Request} failed, answered 503: {Reason}")]
    private static partial void LogTransient(ILogger logger, Exception? exception, string request, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Request} failed, answered 500 (trace id {TraceId})")]
    private static partial void LogFailed(ILogger logger, Exception? exception, string request, string traceId);
}
