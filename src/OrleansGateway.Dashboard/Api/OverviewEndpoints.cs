using Microsoft.OpenApi;
using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.Operations;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// The operators' first view: <c>/attention</c> (what needs a person, also for <c>ogw attention</c>), <c>/overview</c>
/// (the page's whole state from one database snapshot, so that its panels never contradict each other) and
/// <c>/resume-lag</c> (each resume of the last hour, its wait for the drain apart from the resume itself).
/// </summary>
public static class OverviewEndpoints
{
    public const int DefaultAttention = 100;
    public const int MaxAttention = 1000;

    /// <summary>The feed's head in an overview: as many events as <c>GET /events</c> gives by default.</summary>
    public const int OverviewEvents = EventEndpoints.DefaultLimit;

    public static readonly TimeSpan ResumeLagWindow = TimeSpan.FromHours(1);

    public static void MapOverviewEndpoints(RouteGroupBuilder read)
    {
        read.MapGet("/attention", async (HttpRequest request, OperatorSnapshots snapshots, ClusterSettings cluster, TimeProvider time,
            CancellationToken cancellationToken) =>
        {
            if (!QueryParameters.TryGetInt(request.Query, "limit", 1, MaxAttention, DefaultAttention, out var limit, out var error))
            {
                return ApiErrors.BadRequest(error!);
            }

            var list = await snapshots.ReadAttentionAsync(cluster.ClusterId, cluster.FreshnessWindow, limit, cancellationToken);
            return TypedResults.Ok(AttentionResponse.From(list, time.GetUtcNow()));
        })
            .WithSummary("The sessions that need a person, newest risk first: waiting to be resumed (stale or not), quarantined, suspended, a failed turn")
            .WithQuery("limit", JsonSchemaType.Integer, $"How many sessions, 1 to {MaxAttention} (default {DefaultAttention})")
            .Produces<AttentionResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest);

        read.MapGet("/overview", async (HttpRequest request, OperatorSnapshots snapshots, SiloDirectory silos, ClusterSettings cluster,
            CancellationToken cancellationToken) =>
        {
            if (!OperatorSessionEndpoints.TryReadListing(request.Query, cluster, out var listing, out var error)
                || !QueryParameters.TryGetEventCursor(request.Query, "eventsAfter", out var eventsAfter, out error)
                || !QueryParameters.TryGetInt(request.Query, "attention", 1, MaxAttention, DefaultAttention, out var attention, out error))
            {
                return ApiErrors.BadRequest(error!);
            }

            var snapshot = await snapshots.ReadAsync(cluster.ClusterId, listing, attention, eventsAfter, OverviewEvents, cancellationToken);
            var shown = SiloOverviews.Shown(snapshot.Silos, snapshot.At);
            var reports = await silos.ReportAsync(shown.Select(group => group[0]));
            return TypedResults.Ok(new OverviewResponse(
                snapshot.At,
                PhaseCountHistory.ByName(snapshot.Counts, snapshot.Stale),
                [.. shown.Zip(reports, (group, report) => SiloOverviews.From(group, report, snapshot.Owned))],
                AttentionResponse.From(snapshot.Attention, snapshot.At),
                new OverviewSessions([.. snapshot.Page.Sessions.Select(row => SessionSummary.From(row, snapshot.At))], snapshot.Page.Next, snapshot.Matching),
                new EventsResponse([.. snapshot.Events.Events.Select(EventResponse.From)], snapshot.Events.Next.ToString())));
        })
            .WithSummary("The page's state at one moment: counts, silos, the attention list, a page of sessions and the feed, from one database snapshot")
            .WithListingQuery()
            .WithQuery("eventsAfter", JsonSchemaType.String, "The feed's cursor: events.last of the previous answer (the latest events without it)")
            .WithQuery("attention", JsonSchemaType.Integer, $"How many sessions of the attention list, 1 to {MaxAttention} (default {DefaultAttention})")
            .Produces<OverviewResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest);

        read.MapGet("/resume-lag", async (SessionHistory history, CancellationToken cancellationToken) =>
            new ResumeLagResponse([.. (await history.ReadResumeLagsAsync(ResumeLagWindow, cancellationToken)).Select(ResumeLagPoint.From)]))
            .WithSummary("The resumes of the last hour: each one's wait for the stopping silo's drain, and the resume itself");
    }
}
