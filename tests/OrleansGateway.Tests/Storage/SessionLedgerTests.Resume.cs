using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

// Resume: leases, claims, attempts and quarantine.
public sealed partial class SessionLedgerTests
{
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
}
