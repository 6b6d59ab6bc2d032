using System.Globalization;
using Microsoft.OpenApi;
using OrleansGateway.Http.Clients;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;

namespace OrleansGateway.Http;

/// <summary>
/// <c>GET /api/sessions/{id}/stream</c>: the session's turn events as Server-Sent Events, from any silo. The resume point
/// is the <c>Last-Event-ID</c> header (what a browser's EventSource sends when it reconnects), else <c>?after=</c> (for
/// clients that cannot set headers; <c>?after=0</c> is the whole stored stream), else now: only events to come.
/// </summary>
public static class SessionStreamEndpoint
{
    public const string LastEventIdHeader = "Last-Event-ID";
    public const string AfterParameter = "after";

    public static RouteGroupBuilder MapSessionStream(this RouteGroupBuilder sessions)
    {
        sessions.MapGet("/{sessionId}/stream", StreamAsync)
            .WithSummary("The session's turn events as Server-Sent Events")
            .WithHeader(LastEventIdHeader, JsonSchemaType.String, "Resume after this stream event id (a whole number from 0); wins over after")
            .WithQuery(AfterParameter, JsonSchemaType.Integer, "Resume after this stream event id; 0 is the whole stored stream, none only events to come")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return sessions;
    }

    private static async Task<IResult> StreamAsync(string sessionId, HttpContext context, SessionQueries ledger, SessionStreams streams,
        SessionAccess access)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return Problem.BadRequest($"sessionId must be {SessionIds.Rule}");
        }

        if (!TryReadResumePoint(context.Request, out var afterId, out var error))
        {
            return Problem.BadRequest(error!);
        }

        // As GET /api/sessions/{id}: a session that was never written has nothing to stream, and a typo should say so. Its
        // ledger row says so without activating the session's grain, which a stream of a dormant session does not need.
        if (!await access.MayUseAsync(context.User, sessionId, context.RequestAborted)
            || await ledger.GetAsync(sessionId, cancellationToken: context.RequestAborted) is null)
        {
            return SessionEndpoints.NotFound(sessionId);
        }

        await streams.ServeAsync(context, sessionId, afterId);
        return Results.Empty;
    }

    /// <summary>The header wins: an EventSource reconnects to the same URL, its <c>?after=</c> that of its first connection.</summary>
    private static bool TryReadResumePoint(HttpRequest request, out long? afterId, out string? error)
    {
        afterId = null;
        error = null;
        var (name, text) = request.Headers.TryGetValue(LastEventIdHeader, out var header) && !string.IsNullOrWhiteSpace(header)
            ? (LastEventIdHeader, header.Count == 1 ? header[0] : string.Join(",", header.ToArray()))
            : (AfterParameter, null);
        if (name == AfterParameter && !QueryParameters.TryGet(request.Query, AfterParameter, out text, out error))
        {
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            error = $"{name} must be a stream event id (a whole number from 0), not '{text}'";
            return false;
        }

        afterId = id;
        return true;
    }
}
