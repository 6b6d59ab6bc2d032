using System.Security.Claims;
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

    /// <summary>How long the session detail waits for the grain's turns before it shows the ledger alone.</summary>
    public static readonly TimeSpan TurnsTimeout = TimeSpan.FromSeconds(3);

    private static readonly string PhaseNames = string.Join(", ", Enum.GetValues<SessionPhase>().Select(phase => phase.ToName()));

    public static void MapSessionEndpoints(RouteGroupBuilder read, RouteGroupBuilder act)
    {
        read.MapGet("/sessions", ListAsync);
        read.MapGet("/sessions/{sessionId}", GetAsync);
        act.MapPost("/sessions/{sessionId}/resume", (string sessionId, IClusterClient client, OperatorAudit audit, ClaimsPrincipal user) =>
            RunAsync("resume", sessionId, session => session.ResumeNowAsync(), client, audit, user));
        act.MapPost("/sessions/{sessionId}/suspend", (string sessionId, IClusterClient client, OperatorAudit audit, ClaimsPrincipal user) =>
            RunAsync("suspend", sessionId, session => session.SuspendAsync(), client, audit, user));
        act.MapPost("/sessions/{sessionId}/release", (string sessionId, IClusterClient client, OperatorAudit audit, ClaimsPrincipal user) =>
            RunAsync("release", sessionId, session => session.ReleaseAsync(), client, audit, user));
    }

    private static async Task<IResult> ListAsync(HttpRequest request, SessionQueries ledger, ClusterSettings cluster, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var query = request.Query;
        if (!QueryParameters.TryGet(query, "phase", out var phaseName, out var error)
            || !QueryParameters.TryGet(query, "silo", out var silo, out error)
            || !QueryParameters.TryGetBool(query, "stale", out var stale, out error)
            || !QueryParameters.TryGetInt(query, "limit", 1, MaxLimit, DefaultLimit, out var limit, out error)
            || !QueryParameters.TryGet(query, "after", out var after, out error))
        {
            return ApiErrors.BadRequest(error!);
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
                return ApiErrors.BadRequest($"phase must be one of {PhaseNames}, not '{phaseName}'");
            }
        }

        var overview = await ledger.OverviewAsync(new SessionListQuery(phase, silo, stale, cluster.FreshnessWindow, limit, after), cancellationToken);
        var now = time.GetUtcNow();
        var countsByName = PhaseCountHistory.ByName(overview.Counts, overview.Stale);
        return TypedResults.Ok(new SessionListResponse(
            [.. overview.Page.Sessions.Select(row => SessionSummary.From(row, now))],
            overview.Page.Next,
            countsByName));
    }

    /// <summary>
    /// The grain's turns only: the row is read here already. A session that still lives on a silo of release 0.1, which
    /// has no such call, is asked for its whole view instead.
    /// </summary>
    private static async Task<IReadOnlyList<TurnView>?> TurnsAsync(ISessionGrain session)
    {
        try
        {
            return (await session.GetTurnPageAsync(beforeTurnId: null, limit: 500))?.Turns.Reverse().ToList();
        }
        catch (Exception exception) when (exception is not (TimeoutException or OperationCanceledException or SiloUnavailableException))
        {
            return (await session.GetAsync())?.Turns;
        }
    }

    private static async Task<IResult> GetAsync(string sessionId, SessionQueries ledger, EventHistory events, IClusterClient client,
        ClusterSettings cluster, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiErrors.BadRequest(InvalidIdReason);
        }

        // The ledger decides whether the session exists: asking the grain first would activate one for any id.
        var row = await ledger.GetAsync(sessionId, cluster.FreshnessWindow, cancellationToken);
        if (row is null)
        {
            return ApiErrors.NotFound($"session {sessionId} does not exist");
        }

        var history = events.ReadForSessionAsync(sessionId, HistoryLength, cancellationToken);
        IReadOnlyList<TurnView>? turns = null;
        string? turnsUnavailable = null;
        try
        {
            turns = await TurnsAsync(client.GetGrain<ISessionGrain>(sessionId)).WaitAsync(TurnsTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            turnsUnavailable = exception is TimeoutException
                ? $"no silo answered for the session within {TurnsTimeout.TotalSeconds:0} s"
                : $"no silo answered for the session: {exception.GetBaseException().Message}";
        }

        var detail = SessionDetail.From(row, turns, turnsUnavailable, time.GetUtcNow());
        return TypedResults.Ok(new SessionDetailResponse(detail, [.. (await history).Select(EventResponse.From)]));
    }

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
