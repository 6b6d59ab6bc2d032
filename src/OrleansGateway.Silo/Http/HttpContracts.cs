using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansGateway.Sessions;

namespace OrleansGateway.Http;

public sealed record PostMessageRequest(string? Text, string? MessageId);

/// <summary>A stored message: <c>phase</c> is the session's (null when a silo of release 0.1 stored it), <c>note</c> why it waits or what it ended.</summary>
public sealed record PostMessageResponse(string SessionId, string MessageId, string TurnId, string? Phase, string? Note);

public sealed record SessionResponse(
    string SessionId,
    string Phase,
    string? ResumeReason,
    int ResumeAttempts,
    string? OwnerSilo,
    IReadOnlyList<TurnResponse> Turns,
    DateTimeOffset? ResumeMarkedAt,
    bool Stale,
    string? LastError)
{
    public static SessionResponse From(SessionView session) => new(
        session.SessionId,
        session.Phase.ToName(),
        session.ResumeReason,
        session.ResumeAttempts,
        session.OwnerSilo,
        [.. session.Turns.Select(TurnResponse.From)],
        session.ResumeMarkedAt,
        session.Stale,
        session.LastError);
}

public sealed record SessionCommandResponse(string SessionId, string? Phase, string Message);

public sealed record TurnResponse(
    string TurnId,
    string MessageId,
    string Status,
    int StepsDone,
    int? StepsTotal,
    int Executions,
    string? Reply,
    string? Error)
{
    public static TurnResponse From(TurnView turn) => new(
        turn.TurnId,
        turn.MessageId,
        turn.Status.ToString().ToLowerInvariant(),
        turn.StepsDone,
        turn.StepsTotal,
        turn.Executions,
        turn.Reply,
        turn.Error);
}

/// <summary>Every error of the HTTP API: a status code and a sentence saying what was wrong.</summary>
public sealed record ErrorResponse(string Error);

public static class Problem
{
    public static IResult BadRequest(string reason) => TypedResults.Json(new ErrorResponse(reason), HttpJson.Default.ErrorResponse, statusCode: 400);

    public static IResult NotFound(string reason) => TypedResults.Json(new ErrorResponse(reason), HttpJson.Default.ErrorResponse, statusCode: 404);

    public static IResult TooLarge(string reason) => TypedResults.Json(new ErrorResponse(reason), HttpJson.Default.ErrorResponse, statusCode: 413);

    public static IResult Conflict(string reason) => TypedResults.Json(new ErrorResponse(reason), HttpJson.Default.ErrorResponse, statusCode: 409);

    public static IResult Unavailable(string reason) => TypedResults.Json(new ErrorResponse(reason), HttpJson.Default.ErrorResponse, statusCode: 503);

    public static IResult Internal(string reason) => TypedResults.Json(new ErrorResponse(reason), HttpJson.Default.ErrorResponse, statusCode: 500);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PostMessageRequest))]
[JsonSerializable(typeof(PostMessageResponse))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(SessionCommandResponse))]
public sealed partial class HttpJson : JsonSerializerContext;
