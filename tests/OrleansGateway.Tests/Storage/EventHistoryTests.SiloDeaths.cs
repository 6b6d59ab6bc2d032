using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Storage;

// The record of a silo's death: one event for the cluster, none for a silo that left.
public sealed partial class EventHistoryTests
{
    private const string Dead = "10.0.0.9:11111@7";

    [Fact]
    public async Task Of_many_sweepers_that_see_a_silo_dead_at_once_exactly_one_records_it()
    {
        await new SiloRegistry(_dataSource).RegisterAsync(new SiloRegistration(Dead, "c", "s", "silo-9", "1.4.0", 18));

        var written = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => _events.AppendDeclaredDeadAsync(Dead, "silo-9", $"observer-{i}")));
        var again = await _events.AppendDeclaredDeadAsync(Dead, "silo-9", "late-observer");

        Assert.Single(written, true);
        Assert.False(again);
        var death = Assert.Single(await DeathsAsync());
        Assert.Equal(Dead, death.Silo);
        Assert.StartsWith($"silo silo-9 at {Dead}, version 1.4.0, was declared dead by the cluster without leaving (seen by observer-", death.Detail);
    }

    [Theory]
    [InlineData(EventKinds.SiloLeft)]
    [InlineData(EventKinds.DrainFinished)]
    [InlineData(EventKinds.DrainTimedOut)]
    public async Task A_silo_that_left_or_ended_its_drain_is_not_recorded_dead(string departure)
    {
        await _events.AppendAsync(EventKinds.Premark, sessionId: null, Dead, actor: null, "stop");
        await _events.AppendAsync(departure, sessionId: null, Dead, actor: null, "gone");

        Assert.False(await _events.AppendDeclaredDeadAsync(Dead, "silo-9", "observer"));
        Assert.Empty(await DeathsAsync());
    }

    [Fact]
    public async Task A_silo_killed_in_its_drain_and_one_of_release_0_1_are_recorded_dead()
    {
        const string release01 = "10.0.0.8:11111@3";
        await _events.AppendAsync(EventKinds.Premark, sessionId: null, Dead, actor: null, "stop, then SIGKILL");
        await _events.AppendAsync(EventKinds.SiloLeft, sessionId: null, "10.0.0.9:11111@6", actor: null, "its earlier generation left");

        Assert.True(await _events.AppendDeclaredDeadAsync(Dead, "silo-9", "observer"));
        Assert.True(await _events.AppendDeclaredDeadAsync(release01, "silo-8", "observer"));

        var deaths = await DeathsAsync();
        Assert.Equal([Dead, release01], deaths.Select(e => e.Silo));
        Assert.Contains("version 0.1,", deaths[1].Detail);
    }

    private async Task<List<GatewayEvent>> DeathsAsync() =>
        [.. (await _events.ReadLatestAsync(100)).Events.Where(e => e.Kind == EventKinds.SiloDeclaredDead)];
}
