using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

// The stop: premark and drain, crash detection, the audits, zombies.
public sealed partial class SessionLedgerTests
{
    [Fact]
    public async Task Premark_marks_exactly_the_running_sessions_of_the_stopping_silo()
    {
        var stop = Guid.NewGuid();
        await RunningAsync("a-pending-before", SiloA);
        await _ledger.PremarkAsync(SiloA, Guid.NewGuid(), ResumeReasons.ShutdownTimeout);
        var before = await _queries.GetAsync("a-pending-before");
        await RunningAsync("a-running-1", SiloA);
        await RunningAsync("a-running-2", SiloA);
        await RunningAsync("b-running", SiloB);
        await _ledger.EndTurnAsync("a-idle", (await RunningAsync("a-idle", SiloA))!.Value, MarkerChange.Clear, null, null);
        await RunningAsync("a-suspended", SiloA);
        await _ledger.SuspendAsync("a-suspended");

        var marked = await _ledger.PremarkAsync(SiloA, stop, ResumeReasons.RestartTimeout);

        Assert.Equal(2, marked);
        foreach (var id in new[] { "a-running-1", "a-running-2" })
        {
            var row = (await _queries.GetAsync(id))!;
            Assert.Equal((SessionPhase.ResumePending, ResumeReasons.RestartTimeout, stop), (row.Phase, row.ResumeReason, row.PremarkStopId));
            Assert.NotNull(row.ResumeMarkedAt);
        }

        Assert.Equal(SessionPhase.Running, (await _queries.GetAsync("b-running"))!.Phase);
        Assert.Equal(SessionPhase.Idle, (await _queries.GetAsync("a-idle"))!.Phase);
        Assert.Equal(SessionPhase.Suspended, (await _queries.GetAsync("a-suspended"))!.Phase);
        Assert.Equal(before, await _queries.GetAsync("a-pending-before"));
    }

    [Fact]
    public async Task A_turn_that_completes_during_the_drain_clears_its_markers_and_one_that_fails_keeps_them()
    {
        var stop = Guid.NewGuid();
        var completing = (await RunningAsync("completes", SiloA))!.Value;
        var failing = (await RunningAsync("fails", SiloA))!.Value;
        var withQueue = (await RunningAsync("queued-behind", SiloA))!.Value;
        await _ledger.PremarkAsync(SiloA, stop, ResumeReasons.ShutdownTimeout);

        await _ledger.EndTurnAsync("completes", completing, MarkerChange.Clear, null, null);
        await _ledger.EndTurnAsync("fails", failing, MarkerChange.Keep, "step 2 failed: boom", null);
        await _ledger.EndTurnAsync("queued-behind", withQueue, MarkerChange.Defer, null, "t2", new DeferMark(ResumeReasons.ShutdownTimeout, stop));

        var completed = (await _queries.GetAsync("completes"))!;
        Assert.Equal((SessionPhase.Idle, null, null, null), (completed.Phase, completed.ResumeReason, completed.PremarkStopId, completed.ResumeMarkedAt));
        var failed = (await _queries.GetAsync("fails"))!;
        Assert.Equal((SessionPhase.ResumePending, stop, "step 2 failed: boom"), (failed.Phase, failed.PremarkStopId, failed.LastError));
        var queued = (await _queries.GetAsync("queued-behind"))!;
        Assert.Equal((SessionPhase.ResumePending, stop, "t2"), (queued.Phase, queued.PremarkStopId, queued.ActiveTurnId));
    }

    [Fact]
    public async Task A_premark_committed_while_a_turn_ends_with_work_queued_is_kept_for_a_claim()
    {
        // The grain read "not draining" and chose its markers; the premark commits before its EndTurn runs.
        var stop = Guid.NewGuid();
        var completing = (await RunningAsync("completes-queued", SiloA))!.Value;
        var failing = (await RunningAsync("fails-queued", SiloA))!.Value;
        await _ledger.PremarkAsync(SiloA, stop, ResumeReasons.RestartTimeout);

        var completed = await _ledger.EndTurnAsync("completes-queued", completing, MarkerChange.Clear, null, "t2");
        var failed = await _ledger.EndTurnAsync("fails-queued", failing, MarkerChange.Keep, "step 1 failed: boom", "t2");

        Assert.Equal((completing + 1, true), completed);
        Assert.Equal((failing + 1, true), failed);
        foreach (var id in new[] { "completes-queued", "fails-queued" })
        {
            var row = (await _queries.GetAsync(id))!;
            Assert.Equal((SessionPhase.ResumePending, ResumeReasons.RestartTimeout, stop, "t2"), (row.Phase, row.ResumeReason, row.PremarkStopId, row.ActiveTurnId));
            Assert.NotNull(row.ResumeMarkedAt);
        }

        // Kept, the marker is what a sweeper leases; the queued turn runs after a claim, elsewhere.
        var leased = await _ledger.LeaseResumableAsync("sweeper", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30), 10, maxAttempts: 3);
        Assert.Equivalent(new[] { "completes-queued", "fails-queued" }, leased.Select(candidate => candidate.SessionId).ToArray());
    }

    [Fact]
    public async Task A_turn_that_ends_while_the_premark_holds_the_row_ends_on_the_premarked_row()
    {
        // A transaction holds the row; the premark queues on it first, then the EndTurn queues behind the premark.
        var stop = Guid.NewGuid();
        var epoch = (await RunningAsync("racing", SiloA))!.Value;
        await using var holder = await _dataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM gateway_sessions WHERE session_id = 'racing' FOR UPDATE", holder, hold))
        {
            await lockRow.ExecuteNonQueryAsync();
        }

        var premark = _ledger.PremarkAsync(SiloA, stop, ResumeReasons.ShutdownTimeout);
        await WaitersOnLocksAsync(1);
        var endTurn = _ledger.EndTurnAsync("racing", epoch, MarkerChange.Clear, null, "t2");
        await WaitersOnLocksAsync(2);
        await hold.CommitAsync();

        Assert.Equal(1, await premark);
        Assert.Equal((epoch + 1, true), await endTurn);
        var row = (await _queries.GetAsync("racing"))!;
        Assert.Equal((SessionPhase.ResumePending, ResumeReasons.ShutdownTimeout, stop, "t2"), (row.Phase, row.ResumeReason, row.PremarkStopId, row.ActiveTurnId));
    }

    [Fact]
    public async Task Crash_detection_marks_running_sessions_of_dead_silos_only()
    {
        await RunningAsync("on-dead", SiloA);
        await RunningAsync("on-live", SiloB);
        await RunningAsync("suspended-on-dead", SiloA);
        await _ledger.SuspendAsync("suspended-on-dead");

        Assert.Equal(1, await _ledger.MarkOrphanedAsync([SiloA]));

        var orphan = (await _queries.GetAsync("on-dead"))!;
        Assert.Equal((SessionPhase.ResumePending, ResumeReasons.RestartInterrupted), (orphan.Phase, orphan.ResumeReason));
        Assert.Equal(SessionPhase.Running, (await _queries.GetAsync("on-live"))!.Phase);
        Assert.Equal(SessionPhase.Suspended, (await _queries.GetAsync("suspended-on-dead"))!.Phase);
    }

    [Fact]
    public async Task A_live_silo_marks_its_running_sessions_without_a_running_turn_once_they_settled()
    {
        await RunningAsync("turn-runs", SiloA);
        await RunningAsync("stranded", SiloA);
        await RunningAsync("just-started", SiloA);
        await RunningAsync("elsewhere", SiloB);
        await ExecuteAsync("UPDATE gateway_sessions SET updated_at = now() - interval '1 minute' WHERE session_id <> 'just-started'");

        var marked = await _ledger.MarkStrandedAsync(SiloA, ["turn-runs"], TimeSpan.FromSeconds(30));

        Assert.Equal(["stranded"], marked);
        Assert.Equal((SessionPhase.ResumePending, ResumeReasons.Deactivated), ((await _queries.GetAsync("stranded"))!.Phase, (await _queries.GetAsync("stranded"))!.ResumeReason));
        Assert.All(new[] { "turn-runs", "just-started", "elsewhere" }, id => Assert.Equal(SessionPhase.Running, _queries.GetAsync(id).Result!.Phase));
    }

    [Fact]
    public async Task The_audit_marks_idle_sessions_whose_state_holds_unfinished_work_and_nothing_else()
    {
        // Idle for a minute (a finished turn, or a claim that found nothing to run), then the grain state written: with a
        // message queued behind it, with a turn running or interrupted, or with only finished turns (the ETag fence a claim
        // that found nothing writes after its idle row). Controls with work: idle only just now, not idle, and stored
        // longer ago than the freshness window (its marker would be stale). And a turn the state lists running that the
        // transcript has: its end committed, and a crash came before the state was written without it.
        string[] ids = ["queued", "running-turn", "interrupted", "finished", "ended-turn", "just-idle", "not-idle", "long-ago"];
        foreach (var id in ids)
        {
            await _ledger.EndTurnAsync(id, (await RunningAsync(id, SiloA))!.Value, MarkerChange.Clear, null, null);
        }

        await RunningAsync("not-idle", SiloB);
        await ExecuteAsync("UPDATE gateway_sessions SET updated_at = now() - interval '1 minute' WHERE session_id <> 'just-idle'");
        await StateAsync("queued", (3, 1), (null, 0));
        await StateAsync("running-turn", (3, 1), (1, 1));
        await StateAsync("interrupted", (2, 1));
        await StateAsync("finished", (3, 1), (4, 1));
        await StateAsync("ended-turn", (1, 1));
        await Transcript.AppendAsync("ended-turn",
            [new FinishedTurn(1, "m-1", "work 2x10", TurnStatus.Completed, 2, 2, 1, "done 2 steps", null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow)]);
        await StateAsync("just-idle", (null, 0));
        await StateAsync("not-idle", (null, 0));
        await StateAsync("long-ago", (null, 0));
        await ExecuteAsync("""
            UPDATE gateway_sessions SET updated_at = now() - interval '3 hours' WHERE session_id = 'long-ago';
            UPDATE orleansstorage SET modifiedon = now() - interval '2 hours' WHERE grainidextensionstring = 'long-ago';
            """);
        var before = (await _queries.GetManyAsync(ids)).ToDictionary(row => row.SessionId);

        var marked = await _ledger.MarkIdleWithWorkAsync("session", TimeSpan.FromSeconds(30), TimeSpan.FromHours(1));
        var again = await _ledger.MarkIdleWithWorkAsync("session", TimeSpan.FromSeconds(30), TimeSpan.FromHours(1));

        Assert.Equal(["interrupted", "queued", "running-turn"], marked.Order());
        Assert.Empty(again);
        foreach (var id in marked)
        {
            var row = (await _queries.GetAsync(id))!;
            Assert.Equal((SessionPhase.ResumePending, ResumeReasons.IdleWithWork, before[id].Epoch, before[id].OwnerSilo),
                (row.Phase, row.ResumeReason, row.Epoch, row.OwnerSilo));
            // The marker is when the work was stored: the state's last write.
            Assert.Equal(await StateWrittenAsync(id), row.ResumeMarkedAt);
        }

        Assert.All(new[] { "finished", "ended-turn", "just-idle", "not-idle", "long-ago" }, id => Assert.Equal(before[id], _queries.GetAsync(id).Result));

        // Its resume is no attempt toward quarantine: nothing crashed.
        var claim = (await _ledger.ClaimResumeAsync("queued", before["queued"].Epoch, SiloB, "t2", knownStarts: 0, "test"))!;
        Assert.Equal(0, claim.Attempts);
    }

    [Fact]
    public async Task A_zombie_whose_silo_was_declared_dead_holds_no_checkpoint_ends_no_turn_and_takes_no_session()
    {
        const string zombie = "10.0.0.9:11111@9";
        await MemberAsync("blue", zombie, status: 3, aliveSecondsAgo: 1);
        var epoch = (await RunningAsync("frozen", zombie))!.Value;
        Assert.True(await _ledger.FenceCheckpointAsync("frozen", epoch, progressed: false));

        // SIGSTOP, then the cluster votes it dead; on SIGCONT it runs on until it reads the membership table itself.
        await ExecuteAsync("UPDATE orleansmembershiptable SET status = 6");
        Assert.False(await _ledger.FenceCheckpointAsync("frozen", epoch, progressed: false));
        Assert.Null(await _ledger.EndTurnAsync("frozen", epoch, MarkerChange.Clear, error: null, nextTurnId: "t2"));
        var row = (await _queries.GetAsync("frozen"))!;
        Assert.Equal((SessionPhase.Running, epoch, "t1"), (row.Phase, row.Epoch, row.ActiveTurnId));

        // Nor does it take a session for a message it still had queued when it froze, idle or new.
        await RunningAsync("idle", SiloA);
        await _ledger.EndTurnAsync("idle", (await _queries.GetAsync("idle"))!.Epoch, MarkerChange.Clear, error: null, nextTurnId: null);
        Assert.Null(await _ledger.BeginTurnAsync("idle", null, zombie, "t2"));
        Assert.Null(await RunningAsync("new", zombie));
        Assert.Null(await _queries.GetAsync("new"));
        Assert.NotNull(await _ledger.BeginTurnAsync("idle", null, SiloB, "t2"));
    }

    [Fact]
    public async Task A_session_of_a_silo_alive_in_another_cluster_is_left_to_that_cluster_until_the_silo_is_dead()
    {
        const string Blue = "10.0.0.9:11111@5";
        await MemberAsync("blue", Blue, status: 3, aliveSecondsAgo: 0);
        var green = new SessionLedger(_dataSource, new LedgerScope("green", TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1)));
        var epoch = (await green.BeginTurnAsync("blue-session", null, Blue, "t1"))!.Value;
        Assert.Equal("blue", await OwnerClusterAsync("blue-session"));

        // Blue drains: its turn may still be finishing, and a claim in green would run the step twice at once.
        await green.PremarkAsync(Blue, Guid.NewGuid(), ResumeReasons.ShutdownTimeout);
        Assert.Empty(await green.LeaseResumableAsync(SiloB, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30), 10, 3));
        Assert.Null(await green.ClaimResumeAsync("blue-session", epoch, SiloB, "t1", 1, "test"));
        Assert.Single(await LeaseAsync("an unscoped sweeper"));
        await ExecuteAsync("UPDATE gateway_sessions SET resume_leased_by = NULL, resume_lease_until = NULL");

        await ExecuteAsync("UPDATE orleansmembershiptable SET status = 6");
        Assert.Equal(["blue-session"], (await green.LeaseResumableAsync(SiloB, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30), 10, 3)).Select(c => c.SessionId));
        Assert.NotNull(await green.ClaimResumeAsync("blue-session", epoch, SiloB, "t1", 1, "test"));
    }

    [Fact]
    public async Task Crash_detection_sees_dead_owners_of_every_cluster_and_owners_that_vanished()
    {
        const string BlueDead = "10.0.1.1:11111@1", BlueSilent = "10.0.1.2:11111@1", BlueAlive = "10.0.1.3:11111@1";
        const string GreenSilent = "10.0.2.1:11111@1", Vanished = "10.0.3.1:11111@1", JustVanished = "10.0.3.2:11111@1";
        // Begun while their silos lived: a silo declared dead takes no session.
        foreach (var owner in new[] { BlueDead, BlueSilent, BlueAlive, GreenSilent, Vanished, JustVanished })
        {
            await RunningAsync(owner, owner);
        }

        await MemberAsync("blue", BlueDead, status: 6, aliveSecondsAgo: 0);
        await MemberAsync("blue", BlueSilent, status: 3, aliveSecondsAgo: 120);
        await MemberAsync("blue", BlueAlive, status: 3, aliveSecondsAgo: 1);
        await MemberAsync("green", GreenSilent, status: 3, aliveSecondsAgo: 120);

        await ExecuteAsync($"UPDATE gateway_sessions SET updated_at = now() - interval '5 minutes' WHERE session_id <> '{JustVanished}'");
        var green = new SessionLedger(_dataSource, new LedgerScope("green", TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1)));

        Assert.Equal(3, await green.MarkOrphanedAsync([]));

        // Green's own silent silo is Orleans' to judge; a live blue one and a fresh row without a member are left alone.
        var phases = new Dictionary<string, SessionPhase>();
        foreach (var owner in new[] { BlueDead, BlueSilent, Vanished, BlueAlive, GreenSilent, JustVanished })
        {
            phases[owner] = (await _queries.GetAsync(owner))!.Phase;
        }

        Assert.Equal([SessionPhase.ResumePending, SessionPhase.ResumePending, SessionPhase.ResumePending,
            SessionPhase.Running, SessionPhase.Running, SessionPhase.Running], phases.Values);
    }

    [Fact]
    public async Task A_crash_marker_carries_the_time_its_owner_was_last_known_alive()
    {
        // Dead: heartbeat 30 min ago, last session write an hour ago. Busy: a turn it began 10 min ago, after its last
        // heartbeat. Ahead: a silo whose clock runs 10 min ahead. Vanished: no membership row, last write 2 h ago.
        const string Dead = "10.0.4.1:11111@1", Busy = "10.0.4.2:11111@1", Ahead = "10.0.4.3:11111@1", Vanished = "10.0.4.4:11111@1";
        // Begun while their silos lived: a silo declared dead takes no session.
        foreach (var owner in new[] { Dead, Busy, Ahead, Vanished })
        {
            await RunningAsync(owner, owner);
        }

        await MemberAsync("green", Dead, status: 6, aliveSecondsAgo: 1800);
        await MemberAsync("green", Busy, status: 6, aliveSecondsAgo: 1800);
        await MemberAsync("green", Ahead, status: 6, aliveSecondsAgo: -600);

        await ExecuteAsync($"""
            UPDATE gateway_sessions SET updated_at = now() - interval '1 hour' WHERE session_id IN ('{Dead}', '{Ahead}');
            UPDATE gateway_sessions SET updated_at = now() - interval '10 minutes' WHERE session_id = '{Busy}';
            UPDATE gateway_sessions SET updated_at = now() - interval '2 hours' WHERE session_id = '{Vanished}';
            """);
        var green = new SessionLedger(_dataSource, new LedgerScope("green", TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1)));

        Assert.Equal(4, await green.MarkOrphanedAsync([Busy]));

        var ages = new Dictionary<string, long>();
        foreach (var owner in new[] { Dead, Busy, Ahead, Vanished })
        {
            await using var command = _dataSource.CreateCommand(
                $"SELECT round(extract(epoch FROM now() - resume_marked_at) / 60) FROM gateway_sessions WHERE session_id = '{owner}'");
            ages[owner] = Convert.ToInt64(await command.ExecuteScalarAsync());
        }

        Assert.Equal([30L, 10L, 0L, 120L], ages.Values);

        // After a long outage a crash is as old as it is: the vanished owner's marker is stale, never resumed.
        Assert.Equal(1, await _queries.CountStaleAsync(TimeSpan.FromHours(1)));
        Assert.DoesNotContain(Vanished, (await LeaseAsync(SiloB)).Select(c => c.SessionId));
    }
}
