using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;

namespace OrleansGateway.Http;

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
[JsonSerializable(typeof(TurnPageResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(SessionCommandResponse))]
public sealed partial class HttpJson : JsonSerializerContext;
