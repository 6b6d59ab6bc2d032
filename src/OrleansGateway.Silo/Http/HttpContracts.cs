using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansGateway.Operations;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Sessions;

namespace OrleansGateway.Http;

/// <summary>The 0.1 shape of an error, which the problems of <see cref="ApiProblems"/> still carry as their <c>error</c>.</summary>
public sealed record ErrorResponse(string Error);

/// <summary>The refusals of the session API: problems (<see cref="ApiProblems"/>) with the reason as detail and error.</summary>
public static class Problem
{
    public static IResult BadRequest(string reason) => ApiProblems.Result(400, reason);

    public static IResult NotFound(string reason) => ApiProblems.Result(404, reason);

    public static IResult TooLarge(string reason) => ApiProblems.Result(413, reason);

    public static IResult Conflict(string reason) => ApiProblems.Result(409, reason);

    public static IResult Unavailable(string reason) => ApiProblems.Result(503, reason);

    public static IResult Internal(string reason) => ApiProblems.Result(500, reason);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PostMessageRequest))]
[JsonSerializable(typeof(PostMessageResponse))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(TurnPageResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(SessionCommandResponse))]
public sealed partial class HttpJson : JsonSerializerContext;
