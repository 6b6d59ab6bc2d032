using Npgsql;
using NpgsqlTypes;

namespace OrleansGateway.Storage;

/// <summary>
/// The session ledger and its state machine: every write of <c>gateway_sessions</c>, one method per transition,
/// in partial files by lifecycle step. Its reads are in <see cref="SessionQueries"/>.
/// <code>
///   idle ──BeginTurn──▶ running ──EndTurn──▶ idle | running (next turn) | resume_pending (work left, silo drains)
///   running ──Premark / MarkSelf / MarkOrphaned──▶ resume_pending        (stop, deactivation, dead owner)
///   idle ──MarkIdleWithWork──▶ resume_pending                            (unfinished work in the grain state)
///   resume_pending ──EndTurn──▶ idle (completed, nothing queued) | resume_pending (marked while the turn ran)
///   resume_pending ──ClaimResume (CAS epoch+phase)──▶ running | idle      (nothing left to do)
///   resume_pending ──QuarantineExhausted──▶ quarantined                    (too many resumes without progress)
///   any ──Suspend──▶ suspended ──LiftSuspension──▶ running | idle | resume_pending
/// </code>
/// Writes of a grain are fenced on the epoch it holds; a changed epoch means the grain lost the session and
/// must stop writing. Premark, crash detection and quarantine are set-based and leave the epoch alone, so a
/// turn that finishes during a drain can still record its end. <c>resume_marked_at</c> is written once per
/// interruption (when a row leaves <c>running</c>) and cleared by a claim: bookkeeping never refreshes it.
/// </summary>
public sealed partial class SessionLedger(NpgsqlDataSource dataSource, LedgerScope? scope = null)
{
    // The writes of a message's path (a turn's start and end, a checkpoint's fence), sent with other sessions' writes.
    private readonly LedgerGroupCommit _groupCommit = new(dataSource);

    private const string MemberAddress = MembershipTable.MemberAddress;

    // The session's owner is a silo of another cluster that is alive or draining: only that cluster may resume it.
    private const string OwnerAliveElsewhere = $"""
        EXISTS (SELECT 1 FROM orleansmembershiptable m
                 WHERE {MemberAddress} = gateway_sessions.owner_silo AND m.deploymentid <> @cluster_id
                   AND m.status <> 6 AND m.iamalivetime > now() - @foreign_timeout)
        """;

    // The owner was declared dead and runs still: a zombie (frozen, cut off) that has not learnt it yet. Its fenced writes
    // fail, so that it starts no further step while crash detection may be handing the session to another silo.
    private const string OwnerDeclaredDead = $"""
        EXISTS (SELECT 1 FROM orleansmembershiptable m WHERE {MemberAddress} = gateway_sessions.owner_silo AND m.status = 6)
        """;

    // The same of the silo that asks to take a session (@owner_silo): a woken zombie takes no new work either.
    private const string TakerDeclaredDead = $"""
        EXISTS (SELECT 1 FROM orleansmembershiptable m WHERE {MemberAddress} = @owner_silo AND m.status = 6)
        """;

    private static async Task<IReadOnlyList<string>> ReadStringsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var values = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static void AddDefer(NpgsqlParameterCollection parameters, DeferMark? defer)
    {
        parameters.AddNullable("defer_reason", NpgsqlDbType.Text, defer?.Reason);
        parameters.AddNullable("defer_stop_id", NpgsqlDbType.Uuid, defer?.StopId);
    }

    private void AddScope(NpgsqlCommand command)
    {
        command.Parameters.AddNullable("cluster_id", NpgsqlDbType.Text, scope?.ClusterId);
        command.Parameters.AddWithValue("foreign_timeout", scope?.ForeignSiloTimeout ?? TimeSpan.Zero);
        command.Parameters.AddWithValue("vanished_grace", scope?.VanishedOwnerGrace ?? TimeSpan.Zero);
    }
}
