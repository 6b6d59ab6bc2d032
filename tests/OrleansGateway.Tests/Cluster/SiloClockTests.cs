using Npgsql;
using Orleans.TestingHost;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cluster;

/// <summary>Silos whose wall clocks are wrong: time-based decisions follow the database's clock, never a silo's.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SiloClockTests(PostgresFixture postgres) : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("clock");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _cluster = await GatewayTestCluster.StartAsync(connectionString, silos: 1, new Dictionary<string, string?>
        {
            [GatewayTestCluster.ClockOffsetKey] = "-02:00:00",
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Fact]
    public async Task A_silo_two_hours_behind_judges_and_describes_a_marker_by_the_database_s_clock()
    {
        // 90 minutes old by the database, half an hour in the future by the silo's clock; the window is 1 h.
        await using (var insert = _dataSource.CreateCommand(
            "INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, resume_marked_at) " +
            "VALUES ('old', 'resume_pending', '10.9.9.9:1@1', 3, 't1', 'restart_interrupted', now() - interval '90 minutes')"))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var session = _cluster.Client.GetGrain<ISessionGrain>("old");
        var view = (await session.GetAsync())!;

        Assert.Equal((SessionPhase.ResumePending, true), (view.Phase, view.Stale));

        // Never resumed, so a new message takes the session over instead of queueing behind a resume that never comes.
        var accepted = await session.PostMessageAsync(new SessionMessage("m1", "work 1x10"));
        Assert.Equal(SessionPhase.Running, accepted.Phase);
        Assert.StartsWith("abandoned: interrupted 1h30m ago", (await new SessionQueries(_dataSource).GetAsync("old"))!.LastError);
    }
}
