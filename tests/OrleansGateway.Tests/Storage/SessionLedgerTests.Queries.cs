using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Storage;

// The read side: counts, staleness, the overview.
public sealed partial class SessionLedgerTests
{
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
}
