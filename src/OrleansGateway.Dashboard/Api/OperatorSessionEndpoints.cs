using System.Security.Claims;
using Microsoft.OpenApi;
using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.Operations;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// <c>/api/operator/sessions</c>: pages of the ledger (keyset paging, so a listing of 100k sessions costs one page),
/// one session with its turns and history, and the actions resume, suspend and release.
/// </summary>
public static class OperatorSessionEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
    public const int HistoryLength = 100;

    /// <summary>The turns of a session's detail, and of a page of its older turns, unless the request asks for another number.</summary>
    public const int DefaultTurns = 50;

    /// <summary>How long the session detail waits for the grain's turns before it shows the ledger alone.</summary>
    public static readonly TimeSpan TurnsTimeout = TimeSpan.FromSeconds(3);

    private static readonly string PhaseNames = string.Join(", ", Enum.GetValues<SessionPhase>().Select(phase => phase.ToName()));

    public static void MapSessionEndpoints(RouteGroupBuilder read, RouteGroupBuilder act)
    {
        read.MapGet("/sessions", ListAsync)
            .WithSummary("A page of the session ledger, with the counts by phase")
            .WithListingQuery()
            .Produces<SessionListResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        read.MapGet("/sessions/{sessionId}", GetAsync)
            .WithSummary("One session: its ledger row, its newest turns and its history")
            .WithQuery("turns", JsonSchemaType.Integer, $"How many of the newest turns, 0 to {TurnPageLimits.MaxTurns} (default {DefaultTurns})")
            .Produces<SessionDetailResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        read.MapGet("/sessions/{sessionId}/turns", GetTurnPageAsync)
            .WithTurnPage(DefaultTurns)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        MapAction(act, "resume", "Resume the session now, on any silo", session => session.ResumeNowAsync());
        MapAction(act, "suspend", "Suspend the session: no turn runs until it is resumed", session => session.SuspendAsync());
        MapAction(act, "release", "Release the session from its owner, as if that silo had stopped", session => session.ReleaseAsync());
    }

    private static void MapAction(RouteGroupBuilder act, string action, string summary, Func<ISessionGrain, Task<SessionCommandResult>> command) =>
        act.MapPost($"/sessions/{{sessionId}}/{action}", (string sessionId, IClusterClient client, OperatorAudit audit, ClaimsPrincipal user) =>
            RunAsync(action, sessionId, command, client, audit, user))
            .WithSummary(summary)
            .Produces<SessionCommandResponse>();

    /// <summary>The listing's filters and page from <c>phase, silo, stale, limit, after</c>; false with the 400's reason when one is bad.</summary>
    public static bool TryReadListing(IQueryCollection query, ClusterSettings cluster, out SessionListQuery listing, out string? error)
    {
        listing = null!;
        if (!QueryParameters.TryGet(query, "phase", out var phaseName, out error)
            || !QueryParameters.TryGet(query, "silo", out var silo, out error)
            || !QueryParameters.TryGetBool(query, "stale", out var stale, out error)
            || !QueryParameters.TryGetInt(query, "limit", 1, MaxLimit, DefaultLimit, out var limit, out error)
            || !QueryParameters.TryGet(query, "after", out var after, out error))
        {
            return false;
        }

        SessionPhase? phase = null;
        if (phaseName is not null)
        {
            try
            {
                phase = SessionPhaseNames.Parse(phaseName);
            }
            catch (FormatException)
            {
                error = $"phase must be one of {PhaseNames}, not '{phaseName}'";
                return false;
            }
        }

        listing = new SessionListQuery(phase, silo, stale, cluster.FreshnessWindow, limit, after);
        return true;
    }

    /// <summary>The listing's query parameters in the OpenAPI document.</summary>
    public static RouteHandlerBuilder WithListingQuery(this RouteHandlerBuilder builder) => builder
        .WithQuery("phase", JsonSchemaType.String, $"Only sessions in this phase: {PhaseNames}")
        .WithQuery("silo", JsonSchemaType.String, "Only sessions owned by this silo")
        .WithQuery("stale", JsonSchemaType.Boolean, "Only sessions whose owner's marker is (true) or is not (false) stale")
        .WithQuery("limit", JsonSchemaType.Integer, $"How many sessions, 1 to {MaxLimit} (default {DefaultLimit})")
        .WithQuery("after", JsonSchemaType.String, "The cursor: next of the previous page");

    private static async Task<IResult> ListAsync(HttpRequest request, SessionQueries ledger, ClusterSettings cluster, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!TryReadListing(request.Query, cluster, out var listing, out var error))
        {
            return ApiErrors.BadRequest(error!);
        }

        var overview = await ledger.OverviewAsync(listing, cancellationToken);
        var now = time.GetUtcNow();
        var countsByName = PhaseCountHistory.ByName(overview.Counts, overview.Stale);
        return TypedResults.Ok(new SessionListResponse(
            [.. overview.Page.Sessions.Select(row => SessionSummary.From(row, now))],
            overview.Page.Next,
            countsByName));
    }

    /// <summary>The session's ledger row, its newest <c>?turns=</c> turns (the grain's) and its history.</summary>
    private static async Task<IResult> GetAsync(string sessionId, HttpRequest request, SessionQueries ledger, EventHistory events, SessionHistory timelines,
        SiloDirectory silos, IClusterClient client, ClusterSettings cluster, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiErrors.BadRequest(InvalidIdReason);
        }

        if (!QueryParameters.TryGetInt(request.Query, "turns", 0, TurnPageLimits.MaxTurns, DefaultTurns, out var turns, out var error))
        {
            return ApiErrors.BadRequest(error!);
        }

        // The ledger decides whether the session exists: asking the grain first would activate one for any id.
        var row = await ledger.GetAsync(sessionId, cluster.FreshnessWindow, cancellationToken);
        if (row is null)
        {
            return ApiErrors.NotFound($"session {sessionId} does not exist");
        }

        var history = events.ReadForSessionAsync(sessionId, HistoryLength, cancellationToken);
        var timeline = timelines.ReadTimelineAsync(sessionId, HistoryLength, cancellationToken);
        var owner = row.OwnerSilo is { } address ? silos.FindAsync(address, cancellationToken) : Task.FromResult<SiloRow?>(null);
        TurnPage? newest = null;
        string? turnsUnavailable = null;
        try
        {
            // Only the grain's turns: the row is read here already.
            newest = await client.GetGrain<ISessionGrain>(sessionId).ReadTurnPageAsync(beforeTurnId: null, turns).WaitAsync(TurnsTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            turnsUnavailable = TurnsUnavailable(exception);
        }

        var life = await timeline;
        var detail = SessionDetail.From(row, newest, turnsUnavailable, time.GetUtcNow()) with
        {
            OwnerStatus = (await owner)?.Status,
            LastProgressAt = life.LastProgressAt,
        };
        return TypedResults.Ok(new SessionDetailResponse(detail, [.. (await history).Select(EventResponse.From)],
            [.. life.Events.Select(TimelineEntry.From)]));
    }

    /// <summary>A page of the session's turns, newest first: <c>?limit=</c> turns before the turn <c>?before=</c> (the newest without it).</summary>
    private static async Task<IResult> GetTurnPageAsync(string sessionId, HttpRequest request, SessionQueries ledger, IClusterClient client,
        ClusterSettings cluster, CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiErrors.BadRequest(InvalidIdReason);
        }

        if (!QueryParameters.TryGetTurnId(request.Query, "before", out var before, out var error)
            || !QueryParameters.TryGetInt(request.Query, "limit", 1, TurnPageLimits.MaxTurns, DefaultTurns, out var limit, out error))
        {
            return ApiErrors.BadRequest(error!);
        }

        var row = await ledger.GetAsync(sessionId, cluster.FreshnessWindow, cancellationToken);
        if (row is null)
        {
            return ApiErrors.NotFound($"session {sessionId} does not exist");
        }

        TurnPage? page;
        try
        {
            page = await client.GetGrain<ISessionGrain>(sessionId).ReadTurnPageAsync(before, limit).WaitAsync(TurnsTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return ApiErrors.Unavailable(TurnsUnavailable(exception));
        }

        // A ledger row without grain state (a write-ahead whose state write failed) has no turns.
        return TypedResults.Ok(TurnPageResponse.From(sessionId, (page ?? new TurnPage([], 0, null)).WithStartsOf(row)));
    }

    private static string TurnsUnavailable(Exception exception) => exception is TimeoutException
        ? $"no silo answered for the session within {TurnsTimeout.TotalSeconds:0} s"
        : $"no silo answered for the session: {exception.GetBaseException().Message}";

    private static async Task<IResult> RunAsync(string action, string sessionId, Func<ISessionGrain, Task<SessionCommandResult>> command,
        IClusterClient client, OperatorAudit audit, ClaimsPrincipal user)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            // Anything may be in an invalid id: the trail and the log keep a bounded, escaped form of it.
            await audit.RecordAsync(user, action, AuditText.Bounded(sessionId), silo: null, InvalidIdReason);
            return ApiErrors.BadRequest(InvalidIdReason);
        }

        SessionCommandResult result;
        try
        {
            result = await command(client.GetGrain<ISessionGrain>(sessionId));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Nothing is known to have changed: no silo took the call, or it died before it answered.
            var reason = exception is TimeoutException
                ? $"no silo answered for session {sessionId} in time; look at its phase before trying again"
                : $"no silo could take the call for session {sessionId}: {exception.GetBaseException().Message}";
            await audit.RecordAsync(user, action, sessionId, silo: null, reason);
            return ApiErrors.Unavailable(reason);
        }

        await audit.RecordAsync(user, action, sessionId, silo: null, result.Message);
        return result.Status switch
        {
            SessionCommandStatus.Done => TypedResults.Ok(new SessionCommandResponse(sessionId, result.Phase?.ToName(), result.Message)),
            SessionCommandStatus.NotFound => ApiErrors.NotFound(result.Message),
            _ => ApiErrors.Conflict(result.Message),
        };
    }

    private const string InvalidIdReason = $"sessionId must be {SessionIds.Rule}";
}
