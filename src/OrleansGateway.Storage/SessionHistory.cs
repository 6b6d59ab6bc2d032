using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

/// <summary>
/// One transition of a session's life. <paramref name="Source"/> says where it was read: <c>gateway</c> (its own
/// <c>gateway_events</c>), <c>stop</c> (the silo stop or crash detection that marked it, matched by time) or <c>turn</c>
/// (<c>gateway_turn_events</c>, <paramref name="Data"/> its JSON document).
/// </summary>
public sealed record TimelineEvent(DateTimeOffset At, string Kind, string Source, int? TurnNumber, string? Silo, string? Actor, string Detail,
    TimeSpan? Waited, string? Data);

/// <summary>A session's timeline, newest first, and when its running turn last checkpointed (null when it never did).</summary>
public sealed record SessionTimeline(IReadOnlyList<TimelineEvent> Events, DateTimeOffset? LastProgressAt);

/// <summary>
/// One resume's lag split in two: the wait for the stopping silo's drain (marker to its <c>drain_finished</c> or
/// <c>drain_timed_out</c>), and the resume itself (the rest, to the claim). <paramref name="StopKind"/> is the event that
/// marked the session (<c>premark</c>, <c>drain_timed_out</c>, <c>crash_detected</c>), null when none is found.
/// </summary>
public sealed record ResumeLag(DateTimeOffset At, string? SessionId, string? Silo, TimeSpan Waited, TimeSpan DrainWait, string? StopKind);

/// <summary>
/// Reads that put a session's events together: its history merged from <c>gateway_events</c> and
/// <c>gateway_turn_events</c>, and the resume lags of the last hour. Nothing here writes.
/// </summary>
/// <remarks>
/// A stop's premark is one event of the silo, not of each session: a session's premark is the stop event written within
/// <see cref="StopMatch"/> after its marker (the marker is the premark statement's <c>now()</c>, the event follows it).
/// </remarks>
public sealed class SessionHistory(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// The turn events a timeline shows. Each step's event is left out (the turns table shows the progress), and so is a
    /// turn's <c>resumed</c>: the session's own <c>resumed</c> event tells it, with where and after how long.
    /// </summary>
    public static readonly string[] TimelineTurnKinds =
        [TurnEventKinds.Accepted, TurnEventKinds.Started, TurnEventKinds.Interrupted, TurnEventKinds.Completed, TurnEventKinds.Failed];

    private static readonly string[] ProgressKinds =
        [TurnEventKinds.Started, TurnEventKinds.Resumed, TurnEventKinds.StepFinished, TurnEventKinds.ToolCall, TurnEventKinds.ToolResult];

    private static readonly string[] MarkingKinds = [EventKinds.Premark, EventKinds.DrainTimedOut, EventKinds.CrashDetected];
    private static readonly string[] DrainEndKinds = [EventKinds.DrainFinished, EventKinds.DrainTimedOut];

    /// <summary>How long after a session's marker the event of the stop that marked it may come.</summary>
    public static readonly TimeSpan StopMatch = TimeSpan.FromSeconds(10);

    // The stop event nearest after `marks.marked_at` (an alias of the query it is used in).
    private const string MatchStop = """
        SELECT p.id, p.at, p.kind, p.silo, p.detail FROM gateway_events p
         WHERE p.kind = ANY(@marking_kinds) AND p.at BETWEEN marks.marked_at - interval '1 second' AND marks.marked_at + @stop_match
         ORDER BY p.at LIMIT 1
        """;

    public async Task<SessionTimeline> ReadTimelineAsync(string sessionId, int limit, CancellationToken cancellationToken = default)
    {
        await using var batch = dataSource.CreateBatch();
        var timeline = new NpgsqlBatchCommand($"""
            WITH marks AS (
            SELECT at - waited AS marked_at FROM gateway_events WHERE session_id = @session_id AND kind = @resumed AND waited IS NOT NULL
             UNION
            SELECT resume_marked_at FROM gateway_sessions WHERE session_id = @session_id AND phase = 'resume_pending' AND resume_marked_at IS NOT NULL
            ), stops AS (
            SELECT DISTINCT stop.* FROM marks CROSS JOIN LATERAL ({MatchStop}) AS stop
            )
            SELECT at, kind, 'gateway', NULL::int, silo, actor, detail, waited, NULL FROM gateway_events WHERE session_id = @session_id
             UNION ALL
            SELECT at, kind, 'stop', NULL, silo, NULL, detail, NULL, NULL FROM stops
             UNION ALL
            SELECT at, kind, 'turn', turn_number, NULL, NULL, '', NULL, data::text FROM gateway_turn_events
             WHERE session_id = @session_id AND kind = ANY(@turn_kinds)
             ORDER BY 1 DESC
             LIMIT @limit
            """);
        timeline.Parameters.AddWithValue("session_id", sessionId);
        timeline.Parameters.AddWithValue("resumed", EventKinds.Resumed);
        timeline.Parameters.AddWithValue("turn_kinds", TimelineTurnKinds);
        timeline.Parameters.AddWithValue("limit", limit);
        AddStopMatch(timeline.Parameters);
        var progress = new NpgsqlBatchCommand(
            "SELECT at FROM gateway_turn_events WHERE session_id = @session_id AND kind = ANY(@progress_kinds) ORDER BY event_id DESC LIMIT 1");
        progress.Parameters.AddWithValue("session_id", sessionId);
        progress.Parameters.AddWithValue("progress_kinds", ProgressKinds);
        batch.BatchCommands.Add(timeline);
        batch.BatchCommands.Add(progress);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var events = new List<TimelineEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new TimelineEvent(
                reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetFieldValue<TimeSpan>(7),
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        await reader.NextResultAsync(cancellationToken);
        var lastProgress = await reader.ReadAsync(cancellationToken) ? reader.GetFieldValue<DateTimeOffset>(0) : (DateTimeOffset?)null;
        return new SessionTimeline(events, lastProgress);
    }

    /// <summary>The resumes of the last <paramref name="window"/>, oldest first, each with the part of its lag that waited for a drain.</summary>
    public async Task<IReadOnlyList<ResumeLag>> ReadResumeLagsAsync(TimeSpan window, CancellationToken cancellationToken = default)
    {
        // The stop events of the window (and of an hour before it, for a marker that waited long) are few: read once.
        await using var command = dataSource.CreateCommand($"""
            WITH stops AS MATERIALIZED (
            SELECT id, at, kind, silo, detail FROM gateway_events
             WHERE kind = ANY(@stop_kinds) AND at > now() - @window - interval '1 hour'
            ), marks AS (
            SELECT id, at, session_id, silo, waited, at - waited AS marked_at FROM gateway_events
             WHERE kind = @resumed AND waited IS NOT NULL AND at > now() - @window
            )
            SELECT marks.at, marks.session_id, marks.silo, marks.waited, stop.kind,
                   CASE WHEN stop.kind = @crash THEN NULL ELSE drained.at - marks.marked_at END
              FROM marks
              LEFT JOIN LATERAL ({MatchStop.Replace("gateway_events p", "stops p")}) AS stop ON true
              LEFT JOIN LATERAL (SELECT d.at FROM stops d WHERE d.kind = ANY(@drain_end_kinds) AND d.silo = stop.silo AND d.at >= stop.at
                                  ORDER BY d.at LIMIT 1) AS drained ON true
             ORDER BY marks.id
            """);
        command.Parameters.AddWithValue("stop_kinds", MarkingKinds.Concat(DrainEndKinds).Distinct().ToArray());
        command.Parameters.AddWithValue("drain_end_kinds", DrainEndKinds);
        command.Parameters.AddWithValue("resumed", EventKinds.Resumed);
        command.Parameters.AddWithValue("crash", EventKinds.CrashDetected);
        command.Parameters.AddWithValue("window", window);
        AddStopMatch(command.Parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var lags = new List<ResumeLag>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var waited = reader.GetFieldValue<TimeSpan>(3);
            var drain = reader.IsDBNull(5) ? TimeSpan.Zero : reader.GetFieldValue<TimeSpan>(5);
            // Times of separate transactions: a drain end a moment before the marker, or after the claim, is bounded by the lag.
            drain = drain < TimeSpan.Zero ? TimeSpan.Zero : drain > waited ? waited : drain;
            lags.Add(new ResumeLag(reader.GetFieldValue<DateTimeOffset>(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), waited, drain, reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return lags;
    }

    private static void AddStopMatch(NpgsqlParameterCollection parameters)
    {
        parameters.AddWithValue("marking_kinds", MarkingKinds);
        parameters.Add(new NpgsqlParameter("stop_match", NpgsqlDbType.Interval) { Value = StopMatch });
    }
}
