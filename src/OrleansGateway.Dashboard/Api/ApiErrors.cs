using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Api;

/// <summary>The API's refusals: problems (<see cref="ApiProblems"/>) whose detail and <c>error</c> say why. A refused request changes nothing.</summary>
public static class ApiErrors
{
    public static IResult BadRequest(string reason) => Error(reason, StatusCodes.Status400BadRequest);

    public static IResult NotFound(string reason) => Error(reason, StatusCodes.Status404NotFound);

    public static IResult Conflict(string reason) => Error(reason, StatusCodes.Status409Conflict);

    /// <summary>No silo answered for a grain (none is up, or the one holding it just died).</summary>
    public static IResult Unavailable(string reason) => Error(reason, StatusCodes.Status503ServiceUnavailable);

    public static IResult Error(string reason, int statusCode) => ApiProblems.Result(statusCode, reason);
}
