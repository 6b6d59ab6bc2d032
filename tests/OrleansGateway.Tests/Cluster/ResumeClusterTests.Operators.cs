using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cluster;

// What operators see of the cluster: repeated commands that change nothing, silos joining and leaving, resumes spread.
public sealed partial class ResumeClusterTests
{
    [Fact]
    public async Task A_repeated_suspension_by_an_operator_or_the_user_changes_nothing_and_says_already_suspended()
    {
        foreach (var (id, suspend) in new (string, Func<ISessionGrain, Task<SessionCommandResult>>)[]
                 {
                     ("operator-twice", session => session.SuspendAsync()),
                     ("user-twice", session => session.SuspendByUserAsync()),
                 })
        {
            var session = Session(id);
            await session.PostMessageAsync(new SessionMessage("m1", "work 10x200"));
            var first = await suspend(session);
            var (epoch, events) = ((await _ledger.GetAsync(id))!.Epoch, await CountEventsAsync(id));

            var second = await suspend(session);

            Assert.Equal((SessionCommandStatus.Done, SessionPhase.Suspended, "suspended (was running)"), (first.Status, first.Phase, first.Message));
            Assert.Equal((SessionCommandStatus.Done, SessionPhase.Suspended, "already suspended"), (second.Status, second.Phase, second.Message));
            Assert.Equal((epoch, events), ((await _ledger.GetAsync(id))!.Epoch, await CountEventsAsync(id)));
            Assert.Equal(1, events);
        }

        // An operator's suspension of the user's is a change: only an operator can lift it now.
        var takenOver = await Session("user-twice").SuspendAsync();
        Assert.Equal("suspended (was the user's suspension)", takenOver.Message);
        Assert.Equal(2, await CountEventsAsync("user-twice"));
        Assert.Equal(SessionCommandStatus.Conflict, (await Session("user-twice").LiftUserSuspensionAsync()).Status);
    }

    [Fact]
    public async Task The_claims_of_a_departed_silo_s_sessions_spread_over_the_live_silos_and_the_feed_tells_who_joined_and_left()
    {
        // Sessions a silo that is gone left to be resumed: the first sweep to see them leases them all, as one statement.
        var ids = Enumerable.Range(0, 8).Select(i => $"spread-{i}").ToList();
        await using (var orphans = _dataSource.CreateCommand("""
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, resume_reason, premark_stop_id, resume_marked_at)
            SELECT id, 'resume_pending', '10.9.9.9:11111@1', 3, 'shutdown_timeout', gen_random_uuid(), now() FROM unnest(@ids) AS id
            """))
        {
            orphans.Parameters.AddWithValue("ids", ids.ToArray());
            await orphans.ExecuteNonQueryAsync();
        }

        IReadOnlyList<LedgerRow?> rows = [];
        await Eventually.UntilAsync(async () => (rows = await Task.WhenAll(ids.Select(id => _ledger.GetAsync(id)))).All(r => r?.Phase == SessionPhase.Idle),
            TimeSpan.FromSeconds(30), () => string.Join("\n", rows));

        // Each claim activated its session where it was placed, and took the session there.
        var silos = _cluster.Silos.Select(s => s.SiloAddress.ToParsableString()).Order().ToList();
        Assert.Equal(silos, rows.Select(r => r!.OwnerSilo!).Distinct().Order());

        var leaving = _cluster.Silos[1];
        await _cluster.StopSiloAsync(leaving);
        Assert.Equal([leaving.SiloAddress.ToParsableString()], await SiloEventsAsync(EventKinds.SiloLeft));
        Assert.Equal(silos, (await SiloEventsAsync(EventKinds.SiloJoined)).Order());
    }

    private async Task<long> CountEventsAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand("SELECT count(*) FROM gateway_events WHERE session_id = @id");
        command.Parameters.AddWithValue("id", sessionId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The <c>silo</c> of every event of <paramref name="kind"/> (of <paramref name="sessionIds"/> when given), oldest first.</summary>
    private async Task<List<string>> SiloEventsAsync(string kind, IReadOnlyList<string>? sessionIds = null)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT silo FROM gateway_events WHERE kind = @kind AND (@ids IS NULL OR session_id = ANY(@ids)) ORDER BY id");
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)sessionIds?.ToArray() ?? DBNull.Value });
        var silos = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            silos.Add(reader.GetString(0));
        }

        return silos;
    }
}
