using System.Data;
using Npgsql;
using OrleansGateway.Sessions;

namespace OrleansGateway.Storage;

/// <summary>A session that needs a person: waiting to be resumed, quarantined, suspended, or its last turn failed.</summary>
/// <param name="Since">When the risk began: the resume marker of a waiting session, else its last change.</param>
/// <param name="OwnerDead">Its owner is Dead in the membership table.</param>
public sealed record AttentionRow(LedgerRow Session, DateTimeOffset Since, bool OwnerDead);

/// <summary>The attention list, newest risk first, and how many sessions need a person in all.</summary>
public sealed record AttentionList(IReadOnlyList<AttentionRow> Sessions, long Total);

/// <summary>Sessions the ledger says a silo owns, by phase (idle ones are not counted: nothing of them runs anywhere).</summary>
public sealed record OwnedSessions(string OwnerSilo, IReadOnlyDictionary<SessionPhase, long> ByPhase);

/// <summary>What one refresh of the operators' page reads, all of it from one snapshot of the database.</summary>
public sealed record OperatorSnapshot(
    DateTimeOffset At,
    IReadOnlyDictionary<SessionPhase, long> Counts,
    long Stale,
    IReadOnlyList<SiloRow> Silos,
    IReadOnlyList<OwnedSessions> Owned,
    AttentionList Attention,
    SessionPage Page,
    long Matching,
    EventFeedPage Events);

/// <summary>
/// The operators' page in one read: tiles, silos, what they own, the attention list, a page of the listing and the
/// feed's head, in one REPEATABLE READ transaction, so that every panel describes the same moment (before, a draining
/// silo's premark showed in the feed while the tiles, read a second apart, still said nothing waited).
/// </summary>
public sealed class OperatorSnapshots(NpgsqlDataSource dataSource, EventHistory events)
{
    /// <summary>The phases that need a person; with a failed turn's error (last_error) on any other phase.</summary>
    private static readonly string[] AttentionPhases =
        [SessionPhase.ResumePending.ToName(), SessionPhase.Quarantined.ToName(), SessionPhase.Suspended.ToName()];

    // Columns as SessionQueries reads them (the row), then when the risk began and whether the owner is Dead.
    private static readonly string AttentionSql = $"""
        SELECT session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, premark_stop_id,
               resume_marked_at, resume_attempts, last_error, created_at, updated_at, active_turn_starts,
               {SessionQueries.Stale()},
               CASE WHEN phase = 'resume_pending' THEN coalesce(resume_marked_at, updated_at) ELSE updated_at END AS since,
               EXISTS (SELECT 1 FROM orleansmembershiptable m
                        WHERE m.deploymentid = @cluster_id AND m.status = 6 AND {MembershipTable.MemberAddress} = s.owner_silo),
               count(*) OVER ()
          FROM gateway_sessions s
         WHERE phase = ANY(@attention) OR last_error IS NOT NULL
         ORDER BY since DESC, session_id
         LIMIT @limit
        """;

    public async Task<AttentionList> ReadAttentionAsync(string clusterId, TimeSpan freshnessWindow, int limit, CancellationToken cancellationToken = default)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(AttentionCommand(clusterId, freshnessWindow, limit));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await ReadAttentionAsync(reader, cancellationToken);
    }

    /// <param name="eventsAfter">The feed's cursor; null for its latest <paramref name="eventLimit"/> events.</param>
    public async Task<OperatorSnapshot> ReadAsync(string clusterId, SessionListQuery listing, int attentionLimit, EventCursor? eventsAfter, int eventLimit,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var now = new NpgsqlBatchCommand("SELECT now()");
        var silos = new NpgsqlBatchCommand(MembershipTable.SelectWithRegistry);
        silos.Parameters.AddWithValue("cluster_id", clusterId);
        var owned = new NpgsqlBatchCommand("""
            SELECT owner_silo, phase, count(*) FROM gateway_sessions
             WHERE phase = ANY(@busy) AND owner_silo IS NOT NULL GROUP BY owner_silo, phase
            """);
        owned.Parameters.AddWithValue("busy", Enum.GetValues<SessionPhase>().Where(phase => phase != SessionPhase.Idle).Select(phase => phase.ToName()).ToArray());
        foreach (var command in (NpgsqlBatchCommand[])[now, SessionQueries.CountByPhaseCommand(), SessionQueries.CountStaleCommand(listing.FreshnessWindow), silos,
                     owned, AttentionCommand(clusterId, listing.FreshnessWindow, attentionLimit), SessionQueries.ListCommand(listing),
                     SessionQueries.CountMatchingCommand(listing)])
        {
            batch.BatchCommands.Add(command);
        }

        DateTimeOffset at;
        IReadOnlyDictionary<SessionPhase, long> counts;
        long stale, matching;
        List<SiloRow> members;
        List<OwnedSessions> owners;
        AttentionList attention;
        SessionPage page;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            at = reader.GetFieldValue<DateTimeOffset>(0);
            await reader.NextResultAsync(cancellationToken);
            counts = await SessionQueries.ReadCountsAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            stale = await SessionQueries.ReadCountAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            members = await MembershipTable.ReadRowsAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            owners = await ReadOwnedAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            attention = await ReadAttentionAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            page = await SessionQueries.ReadPageAsync(reader, listing.Limit, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            matching = await SessionQueries.ReadCountAsync(reader, cancellationToken);
        }

        // The feed's head in the same snapshot: its horizon is this transaction's.
        var feed = eventsAfter is { } cursor
            ? await events.ReadAfterAsync(connection, cursor, eventLimit, cancellationToken)
            : await events.ReadLatestAsync(connection, eventLimit, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new OperatorSnapshot(at, counts, stale, members, owners, attention, page, matching, feed);
    }

    private static NpgsqlBatchCommand AttentionCommand(string clusterId, TimeSpan freshnessWindow, int limit)
    {
        var command = new NpgsqlBatchCommand(AttentionSql);
        command.Parameters.AddWithValue("cluster_id", clusterId);
        command.Parameters.AddWithValue("freshness_window", freshnessWindow);
        command.Parameters.AddWithValue("attention", AttentionPhases);
        command.Parameters.AddWithValue("limit", limit);
        return command;
    }

    private static async Task<AttentionList> ReadAttentionAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var rows = new List<AttentionRow>();
        var total = 0L;
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new AttentionRow(SessionQueries.ReadRow(reader), reader.GetFieldValue<DateTimeOffset>(14), reader.GetBoolean(15)));
            total = reader.GetInt64(16);
        }

        return new AttentionList(rows, total);
    }

    private static async Task<List<OwnedSessions>> ReadOwnedAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var byOwner = new Dictionary<string, Dictionary<SessionPhase, long>>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var owner = reader.GetString(0);
            if (!byOwner.TryGetValue(owner, out var phases))
            {
                byOwner[owner] = phases = [];
            }

            phases[SessionPhaseNames.Parse(reader.GetString(1))] = reader.GetInt64(2);
        }

        return [.. byOwner.Select(pair => new OwnedSessions(pair.Key, pair.Value))];
    }
}
