using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Storage;

// A suspension that is already in place: repeated, it changes nothing; only an operator's takeover of the user's is a change.
public sealed partial class SessionLedgerTests
{
    [Fact]
    public async Task A_repeated_suspension_leaves_the_row_as_it_is()
    {
        await RunningAsync("twice", SiloA);
        await RunningAsync("user-twice", SiloA);

        Assert.Equal(new Suspension(SessionPhase.Running, Changed: true), await _ledger.TrySuspendAsync("twice"));
        Assert.Equal(new Suspension(SessionPhase.Running, Changed: true), await _ledger.TrySuspendAsync("user-twice", byUser: true));
        var suspended = await _queries.GetAsync("twice");
        var userSuspended = await _queries.GetAsync("user-twice");

        Assert.Equal(new Suspension(SessionPhase.Suspended, Changed: false), await _ledger.TrySuspendAsync("twice"));
        Assert.Equal(new Suspension(SessionPhase.Suspended, Changed: false), await _ledger.TrySuspendAsync("twice", byUser: true));
        Assert.Equal(new Suspension(SessionPhase.Suspended, Changed: false), await _ledger.TrySuspendAsync("user-twice", byUser: true));
        Assert.Equal(suspended, await _queries.GetAsync("twice"));
        Assert.Equal(userSuspended, await _queries.GetAsync("user-twice"));
        Assert.Null(await _ledger.TrySuspendAsync("nobody"));
    }

    [Fact]
    public async Task An_operator_takes_over_the_user_s_suspension_once()
    {
        await RunningAsync("taken", SiloA);
        await _ledger.TrySuspendAsync("taken", byUser: true);
        var epoch = (await _queries.GetAsync("taken"))!.Epoch;

        Assert.Equal(new Suspension(SessionPhase.Suspended, Changed: true), await _ledger.TrySuspendAsync("taken"));
        var takenOver = (await _queries.GetAsync("taken"))!;
        Assert.Equal(new Suspension(SessionPhase.Suspended, Changed: false), await _ledger.TrySuspendAsync("taken"));

        Assert.Equal(epoch + 1, takenOver.Epoch);
        Assert.Equal(takenOver, await _queries.GetAsync("taken"));
        Assert.Null(await _ledger.LiftSuspensionAsync("taken", SiloB, "t1", defer: null, userSuspensionOnly: true));
    }
}
