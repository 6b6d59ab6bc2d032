using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

/// <summary>The ledger's transitions against a real PostgreSQL: the invariants the resume lifecycle stands on.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SessionLedgerTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string SiloA = "10.0.0.1:11111@1";
    private const string SiloB = "10.0.0.2:11111@1";
    private NpgsqlDataSource _dataSource = null!;
    private SessionLedger _ledger = null!;
    private SessionQueries _queries = null!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync("ledger"));
        _ledger = new SessionLedger(_dataSource);
        _queries = new SessionQueries(_dataSource);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

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
    public async Task The_counts_by_phase_count_every_phase_idle_included()
    {
        var before = await _queries.CountByPhaseAsync();
        var added = new Dictionary<SessionPhase, int>
        {
            [SessionPhase.Idle] = 7, [SessionPhase.Running] = 5, [SessionPhase.ResumePending] = 4, [SessionPhase.Suspended] = 2, [SessionPhase.Quarantined] = 1,
        };
        await using (var insert = _dataSource.CreateCommand(
            "INSERT INTO gateway_sessions (session_id, phase) SELECT 'count-' || gen_random_uuid(), phase FROM unnest(@phases) AS phase"))
        {
            insert.Parameters.AddWithValue("phases", added.SelectMany(pair => Enumerable.Repeat(pair.Key.ToName(), pair.Value)).ToArray());
            await insert.ExecuteNonQueryAsync();
        }

        var after = await _queries.CountByPhaseAsync();

        Assert.Equal(Enum.GetValues<SessionPhase>(), after.Keys.Order());
        Assert.All(Enum.GetValues<SessionPhase>(), phase => Assert.Equal(before[phase] + added[phase], after[phase]));
    }

    [Fact]
    public async Task Two_claims_racing_at_one_epoch_have_exactly_one_winner()
    {
        var epoch = (await RunningAsync("raced", SiloA))!.Value;
        await _ledger.MarkOrphanedAsync([SiloA]);

        var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            _ledger.ClaimResumeAsync("raced", epoch, i % 2 == 0 ? SiloA : SiloB, "t1", 1, $"claim {i}")));

        var winner = Assert.Single(claims, claim => claim is not null)!;
        Assert.Equal((epoch + 1, 1), (winner.Epoch, winner.Attempts));
        var row = (await _queries.GetAsync("raced"))!;
        Assert.Equal((SessionPhase.Running, epoch + 1, (DateTimeOffset?)null), (row.Phase, row.Epoch, row.ResumeMarkedAt));
        var resumed = Assert.Single(await new EventHistory(_dataSource).ReadForSessionAsync("raced", 100), e => e.Kind == EventKinds.Resumed);
        Assert.Equal((row.OwnerSilo, 1), (resumed.Silo, claims.Count(claim => claim is not null)));
        Assert.EndsWith(", attempt 1", resumed.Detail);
    }

    [Fact]
    public async Task A_stale_activation_cannot_write_after_a_claim_took_the_session()
    {
        var stale = (await RunningAsync("fenced", SiloA))!.Value;
        await _ledger.PremarkAsync(SiloA, Guid.NewGuid(), ResumeReasons.ShutdownTimeout);
        var claim = await _ledger.ClaimResumeAsync("fenced", stale, SiloB, "t1", 1, "test");
        Assert.NotNull(claim);

        Assert.Null(await _ledger.EndTurnAsync("fenced", stale, MarkerChange.Clear, null, null));
        Assert.False(await _ledger.MarkSelfAsync("fenced", stale, ResumeReasons.Deactivated, null));
        Assert.Null(await _ledger.BeginTurnAsync("fenced", stale, SiloA, "t2"));
        Assert.Equal((SiloB, claim.Epoch), ((await _queries.GetAsync("fenced"))!.OwnerSilo, (await _queries.GetAsync("fenced"))!.Epoch));
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
    public async Task Only_fresh_unleased_markers_are_leased_and_stale_ones_are_counted()
    {
        foreach (var id in new[] { "fresh", "stale", "leased-elsewhere" })
        {
            await RunningAsync(id, SiloA);
        }

        await _ledger.MarkOrphanedAsync([SiloA]);
        await ExecuteAsync("UPDATE gateway_sessions SET resume_marked_at = now() - interval '2 hours' WHERE session_id = 'stale'");
        await ExecuteAsync("UPDATE gateway_sessions SET resume_leased_by = 'other', resume_lease_until = now() + interval '1 hour' WHERE session_id = 'leased-elsewhere'");

        var leased = await LeaseAsync(SiloB);
        var again = await LeaseAsync("third");

        Assert.Equal("fresh", Assert.Single(leased).SessionId);
        Assert.Empty(again);
        Assert.Equal(1, await _queries.CountStaleAsync(TimeSpan.FromHours(1)));
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
        // longer ago than the freshness window (its marker would be stale).
        string[] ids = ["queued", "running-turn", "interrupted", "finished", "just-idle", "not-idle", "long-ago"];
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

        Assert.All(new[] { "finished", "just-idle", "not-idle", "long-ago" }, id => Assert.Equal(before[id], _queries.GetAsync(id).Result));

        // Its resume is no attempt toward quarantine: nothing crashed.
        var claim = (await _ledger.ClaimResumeAsync("queued", before["queued"].Epoch, SiloB, "t2", knownStarts: 0, "test"))!;
        Assert.Equal(0, claim.Attempts);
    }

    [Fact]
    public async Task A_claim_counts_the_turn_s_starts_from_the_larger_of_the_ledger_s_count_and_the_state_s()
    {
        // t1 started once (the state says 1), then a crash; each resume claim is one more start.
        var epoch = (await RunningAsync("starts", SiloA))!.Value;
        await _ledger.MarkOrphanedAsync([SiloA]);
        var second = (await _ledger.ClaimResumeAsync("starts", epoch, SiloB, "t1", knownStarts: 1, "test"))!;
        Assert.Equal(2, second.TurnStarts);

        // Silo B died before the first checkpoint of that start: the state still says 1, the ledger knows 2.
        await _ledger.MarkOrphanedAsync([SiloB]);
        var third = (await _ledger.ClaimResumeAsync("starts", second.Epoch, SiloA, "t1", knownStarts: 1, "test"))!;
        Assert.Equal(3, third.TurnStarts);

        // That one checkpointed (state 3), then a start the state recorded itself (a lifted suspension: state 4).
        await _ledger.SuspendAsync("starts");
        var lifted = (await _ledger.LiftSuspensionAsync("starts", SiloA, "t1", defer: null))!.Value;
        Assert.Equal(3, lifted.TurnStarts);
        await _ledger.MarkOrphanedAsync([SiloA]);
        var fifth = (await _ledger.ClaimResumeAsync("starts", lifted.Epoch, SiloB, "t1", knownStarts: 4, "test"))!;
        Assert.Equal(5, fifth.TurnStarts);

        // The next turn counts from its own start, not from t1's.
        var next = (await _ledger.EndTurnAsync("starts", fifth.Epoch, MarkerChange.Clear, null, "t2"))!.Value.Epoch;
        await _ledger.MarkOrphanedAsync([SiloB]);
        Assert.Equal(2, (await _ledger.ClaimResumeAsync("starts", next, SiloA, "t2", knownStarts: 1, "test"))!.TurnStarts);
    }

    [Fact]
    public async Task A_claimed_start_that_did_not_happen_is_withdrawn_and_counts_no_more()
    {
        // Claimed on silo B, which began to drain before the turn could start: its premark marked the session again.
        var epoch = (await RunningAsync("withdrawn", SiloA))!.Value;
        await _ledger.MarkOrphanedAsync([SiloA]);
        var claim = (await _ledger.ClaimResumeAsync("withdrawn", epoch, SiloB, "t1", knownStarts: 1, "test"))!;
        await _ledger.PremarkAsync(SiloB, Guid.NewGuid(), ResumeReasons.RestartTimeout);

        await _ledger.WithdrawClaimedStartAsync("withdrawn", claim.Epoch);
        await _ledger.WithdrawClaimedStartAsync("withdrawn", claim.Epoch - 1);

        Assert.Equal(1, (await _queries.GetAsync("withdrawn"))!.ActiveTurnStarts);
        Assert.Equal(2, (await _ledger.ClaimResumeAsync("withdrawn", claim.Epoch, SiloA, "t1", knownStarts: 1, "test"))!.TurnStarts);
    }

    [Fact]
    public async Task Sessions_resumed_too_often_without_progress_are_quarantined()
    {
        var epoch = (await RunningAsync("poison", SiloA))!.Value;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await _ledger.MarkOrphanedAsync([SiloA, SiloB]);
            Assert.Empty(await _ledger.QuarantineExhaustedAsync(maxAttempts: 3));
            var claim = await _ledger.ClaimResumeAsync("poison", epoch, attempt % 2 == 0 ? SiloA : SiloB, "t1", 1, "test");
            Assert.Equal(attempt, claim!.Attempts);
            epoch = claim.Epoch;
        }

        await _ledger.MarkOrphanedAsync([SiloA, SiloB]);
        Assert.Equal(["poison"], await _ledger.QuarantineExhaustedAsync(maxAttempts: 3));
        var row = (await _queries.GetAsync("poison"))!;
        Assert.Equal(SessionPhase.Quarantined, row.Phase);
        Assert.StartsWith("quarantined after 3 resumes without progress", row.LastError);
        Assert.Null(await _ledger.ClaimResumeAsync("poison", row.Epoch, SiloA, "t1", 1, "test"));
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
    public async Task A_checkpoint_holds_only_at_its_epoch_and_progress_after_a_resume_resets_the_attempts()
    {
        var epoch = (await RunningAsync("progressing", SiloA))!.Value;
        await _ledger.MarkOrphanedAsync([SiloA]);
        var claim = (await _ledger.ClaimResumeAsync("progressing", epoch, SiloB, "t1", 1, "test"))!;

        // The activation on A lost the session to B's claim: its checkpoint is fenced off, and resets nothing.
        Assert.False(await _ledger.FenceCheckpointAsync("progressing", epoch, progressed: true));
        Assert.Equal(1, (await _queries.GetAsync("progressing"))!.ResumeAttempts);

        // B's first checkpoint without progress (a failed step) keeps the count; one with progress resets it.
        Assert.True(await _ledger.FenceCheckpointAsync("progressing", claim.Epoch, progressed: false));
        Assert.Equal(1, (await _queries.GetAsync("progressing"))!.ResumeAttempts);
        Assert.True(await _ledger.FenceCheckpointAsync("progressing", claim.Epoch, progressed: true));
        Assert.Equal(0, (await _queries.GetAsync("progressing"))!.ResumeAttempts);
    }

    [Fact]
    public async Task Sessions_out_of_attempts_or_of_skipped_owners_are_not_leased()
    {
        // Crash detection marked "spent" once more after the sweep's quarantine step: it must not be resumed a 4th time.
        var spent = (await RunningAsync("spent", SiloA))!.Value;
        await _ledger.MarkOrphanedAsync([SiloA]);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            spent = (await _ledger.ClaimResumeAsync("spent", spent, attempt % 2 == 0 ? SiloA : SiloB, "t1", 1, "test"))!.Epoch;
            await _ledger.MarkOrphanedAsync([SiloA, SiloB]);
        }

        await RunningAsync("on-a", SiloA);
        await RunningAsync("on-b", SiloB);
        await _ledger.MarkOrphanedAsync([SiloA, SiloB]);

        Assert.Equal(["on-b"], (await LeaseAsync("sweeper-1", skipOwners: [SiloA])).Select(c => c.SessionId));
        var rest = Assert.Single(await LeaseAsync("sweeper-2"));
        Assert.Equal(("on-a", SiloA), (rest.SessionId, rest.OwnerSilo));
        Assert.Equal(SessionPhase.ResumePending, (await _queries.GetAsync("spent"))!.Phase);
    }

    [Fact]
    public async Task A_withdrawn_start_gives_back_its_attempt_and_a_new_turn_starts_with_none()
    {
        var epoch = (await RunningAsync("rolling", SiloA))!.Value;
        await _ledger.MarkOrphanedAsync([SiloA]);
        var claim = (await _ledger.ClaimResumeAsync("rolling", epoch, SiloB, "t1", knownStarts: 1, "test"))!;
        Assert.Equal(1, claim.Attempts);
        await _ledger.PremarkAsync(SiloB, Guid.NewGuid(), ResumeReasons.RestartTimeout);

        await _ledger.WithdrawClaimedStartAsync("rolling", claim.Epoch);
        Assert.Equal(0, (await _queries.GetAsync("rolling"))!.ResumeAttempts);

        // A failed turn keeps its attempts on the idle row; the next turn does not inherit them.
        var planned = (await _ledger.ClaimResumeAsync("rolling", claim.Epoch, SiloA, "t1", knownStarts: 1, "test"))!;
        Assert.Equal(0, planned.Attempts);
        await _ledger.MarkOrphanedAsync([SiloA]);
        var again = (await _ledger.ClaimResumeAsync("rolling", planned.Epoch, SiloB, "t1", knownStarts: 1, "test"))!;
        var idle = (await _ledger.EndTurnAsync("rolling", again.Epoch, MarkerChange.Keep, "step 1 failed", nextTurnId: null))!.Value.Epoch;
        Assert.Equal((SessionPhase.Idle, 1), ((await _queries.GetAsync("rolling"))!.Phase, (await _queries.GetAsync("rolling"))!.ResumeAttempts));
        await _ledger.BeginTurnAsync("rolling", idle, SiloA, "t2");
        Assert.Equal(0, (await _queries.GetAsync("rolling"))!.ResumeAttempts);
    }

    [Fact]
    public async Task Resumes_after_planned_stops_never_count_toward_quarantine_and_crashes_do()
    {
        var epoch = (await RunningAsync("upgraded", SiloA))!.Value;
        async Task<ResumeClaim> ClaimAsync(string by) =>
            (await _ledger.ClaimResumeAsync("upgraded", (await _queries.GetAsync("upgraded"))!.Epoch, by, "t1", knownStarts: 1, "test"))!;

        // Every planned stop of an upgrade: a premark, a re-mark, a session deferring itself on a draining silo.
        await _ledger.PremarkAsync(SiloA, Guid.NewGuid(), ResumeReasons.RestartTimeout);
        Assert.Equal(0, (await ClaimAsync(SiloB)).Attempts);
        await _ledger.PremarkAsync(SiloB, Guid.NewGuid(), ResumeReasons.ShutdownTimeout);
        Assert.Equal(0, (await ClaimAsync(SiloA)).Attempts);
        Assert.True(await _ledger.MarkSelfAsync("upgraded", (await _queries.GetAsync("upgraded"))!.Epoch, ResumeReasons.RestartTimeout, Guid.NewGuid()));
        Assert.Equal(0, (await ClaimAsync(SiloB)).Attempts);

        // What counts: the resumed turn dies with its silo, or goes away with its activation, without progress.
        await _ledger.MarkOrphanedAsync([SiloB]);
        Assert.Equal(1, (await ClaimAsync(SiloA)).Attempts);
        Assert.True(await _ledger.MarkSelfAsync("upgraded", (await _queries.GetAsync("upgraded"))!.Epoch, ResumeReasons.Deactivated, stopId: null));
        Assert.Equal(2, (await ClaimAsync(SiloB)).Attempts);
        await _ledger.PremarkAsync(SiloB, Guid.NewGuid(), ResumeReasons.RestartTimeout);
        Assert.Empty(await _ledger.QuarantineExhaustedAsync(maxAttempts: 3));
        Assert.Equal(2, (await ClaimAsync(SiloA)).Attempts);

        await _ledger.MarkOrphanedAsync([SiloA]);
        Assert.Equal(["upgraded"], await _ledger.QuarantineExhaustedAsync(maxAttempts: 2));
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

    [Fact]
    public async Task Whether_a_marker_is_stale_is_read_with_the_row_by_the_database_s_clock()
    {
        foreach (var id in new[] { "fresh", "stale", "running" })
        {
            await RunningAsync(id, SiloA);
        }

        await _ledger.PremarkAsync(SiloA, Guid.NewGuid(), ResumeReasons.RestartTimeout);
        await ExecuteAsync("""
            UPDATE gateway_sessions SET resume_marked_at = now() - interval '61 minutes' WHERE session_id = 'stale';
            UPDATE gateway_sessions SET phase = 'running', resume_marked_at = now() - interval '2 hours' WHERE session_id = 'running';
            """);
        var window = TimeSpan.FromHours(1);

        Assert.Equal((false, true, false), ((await _queries.GetAsync("fresh", window))!.Stale, (await _queries.GetAsync("stale", window))!.Stale,
            (await _queries.GetAsync("running", window))!.Stale));
        Assert.Null((await _queries.GetAsync("stale"))!.Stale);
        var listed = await _queries.ListAsync(new SessionListQuery(null, null, null, window, 10, null));
        Assert.Equal(["stale"], listed.Sessions.Where(row => row.Stale == true).Select(row => row.SessionId));
    }

    [Fact]
    public async Task The_overview_reads_in_one_batch_what_the_page_and_the_counts_read_alone()
    {
        foreach (var id in new[] { "o-1", "o-2", "o-3", "o-stale" })
        {
            await RunningAsync(id, SiloA);
        }

        await RunningAsync("o-elsewhere", SiloB);
        await _ledger.PremarkAsync(SiloA, Guid.NewGuid(), ResumeReasons.RestartTimeout);
        await ExecuteAsync("UPDATE gateway_sessions SET resume_marked_at = now() - interval '2 hours' WHERE session_id = 'o-stale'");
        var query = new SessionListQuery(SessionPhase.ResumePending, SiloA, null, TimeSpan.FromHours(1), 2, null);

        var overview = await _queries.OverviewAsync(query);

        Assert.Equal(["o-1", "o-2"], overview.Page.Sessions.Select(row => row.SessionId));
        Assert.Equal("o-2", overview.Page.Next);
        Assert.Equal((await _queries.ListAsync(query)).Sessions, overview.Page.Sessions);
        Assert.Equal((4, 1), (overview.Counts[SessionPhase.ResumePending], overview.Counts[SessionPhase.Running]));
        Assert.Equal(await _queries.CountByPhaseAsync(), overview.Counts);
        Assert.Equal(1, overview.Stale);
    }

    [Fact]
    public async Task A_suspension_wins_over_everything_until_it_is_lifted()
    {
        var epoch = (await RunningAsync("held", SiloA))!.Value;
        await _ledger.PremarkAsync(SiloA, Guid.NewGuid(), ResumeReasons.ShutdownTimeout);

        Assert.Equal(SessionPhase.ResumePending, await _ledger.SuspendAsync("held"));
        Assert.Null(await _ledger.ClaimResumeAsync("held", epoch, SiloB, "t1", 1, "test"));
        Assert.Equal(0, await _ledger.PremarkAsync(SiloA, Guid.NewGuid(), ResumeReasons.ShutdownTimeout));
        Assert.Empty(await LeaseAsync(SiloB));
        Assert.Null(await _ledger.SuspendAsync("nobody"));

        var lifted = await _ledger.LiftSuspensionAsync("held", SiloB, "t1", defer: null);

        Assert.NotNull(lifted);
        var row = (await _queries.GetAsync("held"))!;
        Assert.Equal((SessionPhase.Running, SiloB), (row.Phase, row.OwnerSilo));
        Assert.Null(await _ledger.LiftSuspensionAsync("held", SiloB, "t1", defer: null));
    }

    [Fact]
    public async Task A_new_turn_takes_over_a_stale_interruption_at_the_epoch_seen_and_never_a_fresh_one()
    {
        var window = TimeSpan.FromHours(1);
        await RunningAsync("stale", SiloA);
        await RunningAsync("fresh", SiloA);
        await _ledger.MarkOrphanedAsync([SiloA]);
        await ExecuteAsync("UPDATE gateway_sessions SET resume_marked_at = now() - interval '2 hours' WHERE session_id = 'stale'");
        var stale = (await _queries.GetAsync("stale"))!;
        var fresh = (await _queries.GetAsync("fresh"))!;

        Assert.Null(await _ledger.BeginTurnAsync("stale", null, SiloB, "t2"));
        Assert.Null(await _ledger.BeginTurnAsync("stale", null, SiloB, "t2", staleTakeover: new StaleTakeover(stale.Epoch - 1, window, "abandoned")));
        Assert.Null(await _ledger.BeginTurnAsync("fresh", null, SiloB, "t2", staleTakeover: new StaleTakeover(fresh.Epoch, window, "abandoned")));
        var taken = await _ledger.BeginTurnAsync("stale", null, SiloB, "t2", staleTakeover: new StaleTakeover(stale.Epoch, window, "abandoned: old"));

        Assert.Equal(stale.Epoch + 1, taken);
        var row = (await _queries.GetAsync("stale"))!;
        Assert.Equal((SessionPhase.Running, SiloB, "t2", null, null, "abandoned: old"),
            (row.Phase, row.OwnerSilo, row.ActiveTurnId, row.ResumeReason, row.ResumeMarkedAt, row.LastError));
        Assert.Equal(fresh, await _queries.GetAsync("fresh"));
    }

    [Fact]
    public async Task The_user_lifts_only_the_user_s_own_suspension_and_never_suspends_a_quarantine()
    {
        await RunningAsync("by-user", SiloA);
        await RunningAsync("by-operator", SiloA);
        await RunningAsync("taken-over", SiloA);
        await RunningAsync("quarantined", SiloA);
        await ExecuteAsync("UPDATE gateway_sessions SET phase = 'quarantined' WHERE session_id = 'quarantined'");
        var quarantined = await _queries.GetAsync("quarantined");

        Assert.Equal(SessionPhase.Running, await _ledger.SuspendAsync("by-user", byUser: true));
        Assert.Equal(SessionPhase.Running, await _ledger.SuspendAsync("by-operator"));
        Assert.Equal(SessionPhase.Running, await _ledger.SuspendAsync("taken-over", byUser: true));
        Assert.Equal(SessionPhase.Suspended, await _ledger.SuspendAsync("taken-over"));
        Assert.Equal(SessionPhase.Quarantined, await _ledger.SuspendAsync("quarantined", byUser: true));
        Assert.Null(await _ledger.SuspendAsync("nobody", byUser: true));

        // A user's second suspension changes nothing: it does not make an operator's suspension the user's.
        Assert.Equal(SessionPhase.Suspended, await _ledger.SuspendAsync("by-operator", byUser: true));
        Assert.Equal(quarantined, await _queries.GetAsync("quarantined"));
        Assert.Null(await _ledger.LiftSuspensionAsync("by-operator", SiloB, "t1", defer: null, userSuspensionOnly: true));
        Assert.Null(await _ledger.LiftSuspensionAsync("taken-over", SiloB, "t1", defer: null, userSuspensionOnly: true));
        Assert.NotNull(await _ledger.LiftSuspensionAsync("by-user", SiloB, "t1", defer: null, userSuspensionOnly: true));
        Assert.NotNull(await _ledger.LiftSuspensionAsync("by-operator", SiloB, "t1", defer: null));
        Assert.Equal(SessionPhase.Running, (await _queries.GetAsync("by-user"))!.Phase);

        // Lifted once, the user's epoch is gone: a later suspension by anyone else is not the user's.
        await _ledger.SuspendAsync("by-user");
        Assert.Null(await _ledger.LiftSuspensionAsync("by-user", SiloB, "t1", defer: null, userSuspensionOnly: true));
    }

    private Task<IReadOnlyList<ResumeCandidate>> LeaseAsync(string sweeper, IReadOnlyCollection<string>? skipOwners = null) =>
        _ledger.LeaseResumableAsync(sweeper, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30), limit: 10, maxAttempts: 3, skipOwners);

    /// <summary>A new session whose first turn runs on <paramref name="owner"/>; its epoch.</summary>
    private Task<long?> RunningAsync(string sessionId, string owner) => _ledger.BeginTurnAsync(sessionId, null, owner, "t1");

    /// <summary>
    /// The session's grain state written now, as the ADO.NET grain storage keeps it (JSON of Orleans' Newtonsoft-based
    /// serializer, see Golden/0.1/SessionState.json): one turn per (status, executions); a null status is left out, as
    /// the serializer leaves out Queued, the default.
    /// </summary>
    private async Task StateAsync(string sessionId, params (int? Status, int Executions)[] turns)
    {
        // Written with ' for ", for legibility.
        var records = turns.Select((turn, i) =>
            $"{{'$id':'{i + 2}','$type':'OrleansGateway.Sessions.TurnRecord, OrleansGateway.Silo','TurnId':'t{i + 1}','MessageId':'m-{i + 1}','Text':'work 2x10',"
            + (turn.Status is { } status ? $"'Status':{status}," : "")
            + $"'StepsTotal':2,'Executions':{turn.Executions},'AcceptedAt':'2026-11-30T10:00:00.123+01:00'}}");
        var json = ("{'$id':'1','$type':'OrleansGateway.Sessions.SessionState, OrleansGateway.Silo','Turns':{'$type':'System.Collections.Generic.List`1[[OrleansGateway.Sessions.TurnRecord, OrleansGateway.Silo]], System.Private.CoreLib','$values':["
            + string.Join(",", records) + $"]}},'LastTurnNumber':{turns.Length}}}").Replace('\'', '"');
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid, payloadbinary, version)
            VALUES (hashtext(@id), 0, 0, hashtext('session'), 'session', @id, 'test', convert_to(@json, 'UTF8'), 1)
            """);
        command.Parameters.AddWithValue("id", sessionId);
        command.Parameters.AddWithValue("json", json);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<DateTimeOffset> StateWrittenAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand("SELECT modifiedon FROM orleansstorage WHERE grainidextensionstring = @id");
        command.Parameters.AddWithValue("id", sessionId);
        return new DateTimeOffset((DateTime)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>A silo as Orleans' membership table records it, in cluster <paramref name="cluster"/>.</summary>
    private async Task MemberAsync(string cluster, string address, int status, int aliveSecondsAgo)
    {
        var (host, port, generation) = (address.Split(':')[0], int.Parse(address.Split(':', '@')[1]), int.Parse(address.Split('@')[1]));
        await ExecuteAsync($"""
            INSERT INTO orleansmembershipversiontable (deploymentid) VALUES ('{cluster}') ON CONFLICT DO NOTHING;
            INSERT INTO orleansmembershiptable (deploymentid, address, port, generation, siloname, hostname, status, starttime, iamalivetime)
            VALUES ('{cluster}', '{host}', {port}, {generation}, 'silo', 'host', {status}, now() - interval '1 hour', now() - interval '{aliveSecondsAgo} seconds')
            """);
    }

    private async Task<string?> OwnerClusterAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand($"SELECT owner_cluster FROM gateway_sessions WHERE session_id = '{sessionId}'");
        return await command.ExecuteScalarAsync() as string;
    }

    /// <summary>Until <paramref name="count"/> statements on this test's database wait for a lock.</summary>
    private async Task WaitersOnLocksAsync(int count)
    {
        var waiting = 0L;
        await Eventually.UntilAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
            waiting = (long)(await command.ExecuteScalarAsync())!;
            return waiting == count;
        }, TimeSpan.FromSeconds(10), () => $"{waiting} statements waiting for a lock, not {count}", pollMilliseconds: 10);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
