using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

// Suspensions, the user's and the operator's, and the takeover of a stale interruption.
public sealed partial class SessionLedgerTests
{
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
}
