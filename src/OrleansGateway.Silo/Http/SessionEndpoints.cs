using System.Text;
using System.Text.Json;
using Microsoft.OpenApi;
using OrleansGateway.Agents;
using OrleansGateway.Http.Clients;
using OrleansGateway.Operations;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Sessions;

namespace OrleansGateway.Http;

/// <summary>
/// The user-facing session API: post a message, read a session and page through its turns, follow its events
/// (<see cref="SessionStreamEndpoint"/>), suspend, resume and delete it.
/// </summary>
public static class SessionEndpoints
{
    /// <summary>Largest <c>text</c> of a message, in UTF-8 bytes.</summary>
    public const int MaxTextBytes = 64 * 1024;

    // Room for the largest text with every character JSON-escaped (\u0000 is 6 bytes per byte), plus the rest.
    private const int MaxBodyBytes = MaxTextBytes * 6 + 4096;

    public static IEndpointRouteBuilder MapSessionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var sessions = endpoints.MapGroup("/api/sessions").WithTags("sessions")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireApiClient(endpoints.ServiceProvider);
        sessions.MapPost("/{sessionId}/messages", PostMessageAsync)
            .WithSummary("Store a message; its turn runs in the background")
            .WithJsonBody<PostMessageRequest>()
            .Produces<PostMessageResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        sessions.MapGet("/{sessionId}", GetSessionAsync)
            .WithSummary("The session with its newest turns")
            .WithQuery("turns", JsonSchemaType.Integer, $"How many of the newest turns, 0 to {TurnPageLimits.MaxTurns} (default {TurnPageLimits.DefaultTurns})")
            .Produces<SessionResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        sessions.MapGet("/{sessionId}/turns", GetTurnPageAsync)
            .WithTurnPage(TurnPageLimits.DefaultTurns)
            .ProducesProblem(StatusCodes.Status404NotFound);
        sessions.MapSessionStream();
        MapCommand(sessions, "/{sessionId}/suspend", HttpMethods.Post, "Suspend the session: no turn runs until it is resumed",
            session => session.SuspendByUserAsync());
        MapCommand(sessions, "/{sessionId}/resume", HttpMethods.Post, "Lift a suspension made with suspend",
            session => session.LiftUserSuspensionAsync());
        MapCommand(sessions, "/{sessionId}", HttpMethods.Delete, "Delete the session and its turns",
            session => session.DeleteAsync());
        return endpoints;
    }

    private static void MapCommand(RouteGroupBuilder sessions, string pattern, string method, string summary,
        Func<ISessionGrain, Task<SessionCommandResult>> command) =>
        sessions.MapMethods(pattern, [method], (string sessionId, HttpContext context, IGrainFactory grains, SessionAccess access) =>
                RunCommandAsync(sessionId, context, grains, access, command))
            .WithSummary(summary)
            .Produces<SessionCommandResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    private static async Task<IResult> PostMessageAsync(string sessionId, HttpRequest request, IGrainFactory grains, IAgent agent,
        SessionAccess access, CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return Problem.BadRequest($"sessionId must be {SessionIds.Rule}");
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return Problem.TooLarge($"the body is {request.ContentLength} bytes; the limit is {MaxBodyBytes}");
        }

        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return Problem.TooLarge($"the body is larger than {MaxBodyBytes} bytes");
        }

        JsonElement json;
        try
        {
            json = JsonElement.Parse(body);
        }
        catch (JsonException exception)
        {
            return Problem.BadRequest($"the body is not valid JSON: {exception.Message}");
        }

        PostMessageRequest? message;
        try
        {
            message = json.Deserialize(HttpJson.Default.PostMessageRequest);
        }
        catch (JsonException exception)
        {
            // Valid JSON of another shape: say which field, and what it was (every field of the request is a string).
            return exception.Path is ['$', '.', .. var field] && json.ValueKind == JsonValueKind.Object && json.TryGetProperty(field, out var value)
                ? Problem.BadRequest($"{field} must be a string, not {Describe(value.ValueKind)}")
                : Problem.BadRequest($"the body must be a JSON object like {{\"text\": \"...\", \"messageId\": \"...\"}}, not {Describe(json.ValueKind)}");
        }

        if (message?.Text is null)
        {
            return Problem.BadRequest("text is required");
        }

        var textBytes = Encoding.UTF8.GetByteCount(message.Text);
        if (textBytes > MaxTextBytes)
        {
            return Problem.TooLarge($"text is {textBytes} bytes; the limit is {MaxTextBytes}");
        }

        if (message.MessageId is not null && !SessionIds.IsValid(message.MessageId))
        {
            return Problem.BadRequest($"messageId must be {SessionIds.Rule}");
        }

        if (agent.Validate(message.Text) is { } reason)
        {
            return Problem.BadRequest(reason);
        }

        // Last of the checks: a refused request leaves the session to nobody.
        if (!await access.MayPostAsync(request.HttpContext.User, sessionId, cancellationToken))
        {
            return NotFound(sessionId);
        }

        var messageId = message.MessageId ?? $"m-{Guid.NewGuid():N}";
        MessageAccepted accepted;
        try
        {
            accepted = await grains.GetGrain<ISessionGrain>(sessionId).PostMessageAsync(new SessionMessage(messageId, message.Text));
        }
        catch (Exception exception) when (ApiExceptionHandler.RefusalReason(exception) is { } refusal)
        {
            return Problem.Conflict(refusal);
        }

        return TypedResults.Accepted($"/api/sessions/{sessionId}",
            new PostMessageResponse(accepted.SessionId, accepted.MessageId, accepted.TurnId, accepted.Phase?.ToName(), accepted.Note));
    }

    /// <summary>The session with its newest <c>?turns=</c> turns (oldest of them first), its turn count and the cursor of the older ones.</summary>
    private static async Task<IResult> GetSessionAsync(string sessionId, HttpRequest request, IGrainFactory grains, SessionAccess access,
        CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return Problem.BadRequest($"sessionId must be {SessionIds.Rule}");
        }

        if (!QueryParameters.TryGetInt(request.Query, "turns", 0, TurnPageLimits.MaxTurns, TurnPageLimits.DefaultTurns, out var turns, out var error))
        {
            return Problem.BadRequest(error!);
        }

        var session = await access.MayUseAsync(request.HttpContext.User, sessionId, cancellationToken)
            ? await grains.GetGrain<ISessionGrain>(sessionId).ReadNewestAsync(turns)
            : null;
        return session is null
            ? NotFound(sessionId)
            : TypedResults.Ok(SessionResponse.From(session));
    }

    /// <summary>A page of the session's turns, newest first: <c>?limit=</c> turns before the turn <c>?before=</c> (the newest without it).</summary>
    private static async Task<IResult> GetTurnPageAsync(string sessionId, HttpRequest request, IGrainFactory grains, SessionAccess access,
        CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return Problem.BadRequest($"sessionId must be {SessionIds.Rule}");
        }

        if (!QueryParameters.TryGetTurnId(request.Query, "before", out var before, out var error)
            || !QueryParameters.TryGetInt(request.Query, "limit", 1, TurnPageLimits.MaxTurns, TurnPageLimits.DefaultTurns, out var limit, out error))
        {
            return Problem.BadRequest(error!);
        }

        var page = await access.MayUseAsync(request.HttpContext.User, sessionId, cancellationToken)
            ? await grains.GetGrain<ISessionGrain>(sessionId).ReadTurnPageAsync(before, limit)
            : null;
        return page is null
            ? NotFound(sessionId)
            : TypedResults.Ok(TurnPageResponse.From(sessionId, page));
    }

    private static async Task<IResult> RunCommandAsync(string sessionId, HttpContext context, IGrainFactory grains, SessionAccess access,
        Func<ISessionGrain, Task<SessionCommandResult>> command)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return Problem.BadRequest($"sessionId must be {SessionIds.Rule}");
        }

        if (!await access.MayUseAsync(context.User, sessionId, context.RequestAborted))
        {
            return NotFound(sessionId);
        }

        var result = await command(grains.GetGrain<ISessionGrain>(sessionId));
        return result.Status switch
        {
            SessionCommandStatus.Done => TypedResults.Ok(new SessionCommandResponse(sessionId, result.Phase?.ToName(), result.Message)),
            SessionCommandStatus.NotFound => Problem.NotFound(result.Message),
            _ => Problem.Conflict(result.Message),
        };
    }

    /// <summary>What an unknown session and another client's session both answer: the API does not tell them apart.</summary>
    internal static IResult NotFound(string sessionId) => Problem.NotFound($"session {sessionId} does not exist");

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.String => "a string",
        _ => "null",
    };

    /// <summary>The body, or null when it is longer than the limit (read no further than that).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
