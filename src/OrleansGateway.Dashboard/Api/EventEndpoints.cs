using OrleansGateway.Operations;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary><c>/api/operator/events</c>: the history feed, followed with the last id seen.</summary>
public static class EventEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static void MapEventEndpoints(RouteGroupBuilder read)
    {
        read.MapGet("/events", async (HttpRequest request, EventHistory events, CancellationToken cancellationToken) =>
        {
            if (!QueryParameters.TryGetLong(request.Query, "after", out var after, out var error)
                || !QueryParameters.TryGetInt(request.Query, "limit", 1, MaxLimit, DefaultLimit, out var limit, out error))
            {
                return ApiErrors.BadRequest(error!);
            }

            // Without `after`: the latest events, where a feed starts.
            var page = after is { } id
                ? await events.ReadAfterAsync(id, limit, cancellationToken)
                : await events.ReadLatestAsync(limit, cancellationToken);
            return TypedResults.Ok(new EventsResponse([.. page.Select(EventResponse.From)], page.Count > 0 ? page[^1].Id : after ?? 0));
        });
    }
}
