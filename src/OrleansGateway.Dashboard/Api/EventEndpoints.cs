using Microsoft.OpenApi;
using OrleansGateway.Operations;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary><c>/api/operator/events</c>: the history feed, followed with the cursor of the last answer.</summary>
public static class EventEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static void MapEventEndpoints(RouteGroupBuilder read)
    {
        read.MapGet("/events", async (HttpRequest request, EventHistory events, CancellationToken cancellationToken) =>
        {
            if (!QueryParameters.TryGetEventCursor(request.Query, "after", out var after, out var error)
                || !QueryParameters.TryGetInt(request.Query, "limit", 1, MaxLimit, DefaultLimit, out var limit, out error))
            {
                return ApiErrors.BadRequest(error!);
            }

            // Without `after`: the latest events, where a feed starts.
            var page = after is { } cursor
                ? await events.ReadAfterAsync(cursor, limit, cancellationToken)
                : await events.ReadLatestAsync(limit, cancellationToken);
            return TypedResults.Ok(new EventsResponse([.. page.Events.Select(EventResponse.From)], page.Next.ToString()));
        })
            .WithSummary("The event history after a cursor (the latest events without one)")
            .WithQuery("after", JsonSchemaType.String, "The cursor: last of the previous answer")
            .WithQuery("limit", JsonSchemaType.Integer, $"How many events, 1 to {MaxLimit} (default {DefaultLimit})")
            .Produces<EventsResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }
}
