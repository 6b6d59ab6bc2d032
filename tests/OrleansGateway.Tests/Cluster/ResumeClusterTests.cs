using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cluster;

/// <summary>
/// The resume lifecycle on an in-process cluster with real PostgreSQL: graceful stops run the real
/// premark/drain participant. (Kills need real processes: see the process tests.)
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ResumeClusterTests(PostgresFixture postgres) : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private NpgsqlDataSource _dataSource = null!;
    private SessionQueries _ledger = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("resume");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _ledger = new SessionQueries(_dataSource);
        _cluster = await GatewayTestCluster.StartAsync(connectionString, silos: 2, new Dictionary<string, string?>
        {
            [GatewayTestCluster.RecordStepsKey] = "true",
            ["Gateway:Resume:DrainTimeout"] = "00:00:00.300",
            ["Gateway:Resume:InterruptGrace"] = "00:00:02",
            ["Gateway:Resume:SweepInterval"] = "00:00:00.500",
            ["Gateway:Resume:IdleAuditInterval"] = "00:00:01",
            ["Gateway:Resume:StopIntent"] = "Restart",
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Fact]
    public async Task A_drain_that_times_out_interrupts_turns_which_resume_from_their_checkpoint_on_the_survivor()
    {
        var ids = Enumerable.Range(0, 6).Select(i => $"timeout-{i}").ToList();
        foreach (var id in ids)
        {
            await Session(id).PostMessageAsync(new SessionMessage("m1", "work 8x400"));
        }

        await Eventually.UntilAsync(async () => (await Task.WhenAll(ids.Select(id => Session(id).GetAsync()))).All(v => v!.Turns[0].StepsDone >= 2),
            TimeSpan.FromSeconds(30), () => "sessions did not get two steps in");
        var stopping = await OwnerAsync(ids[0]);
        var onStopping = new List<string>();
        foreach (var id in ids)
        {
            if ((await OwnerAsync(id)).SiloAddress.Equals(stopping.SiloAddress))
            {
                onStopping.Add(id);
            }
        }

        await _cluster.StopSiloAsync(stopping);

        var views = await WaitUntilAllCompletedAsync(ids);
        foreach (var id in onStopping)
        {
            var turn = views[id].Turns[0];
            Assert.Equal((TurnStatus.Completed, 8, 2, "done 8 steps"), (turn.Status, turn.StepsDone, turn.Executions, turn.Reply));

            // Execution 1 ran steps 0..k, the drain timeout interrupted step k; execution 2 began at step k,
            // the first without a checkpoint, and no completed step ran again.
            var steps = StepRecorder.Started.Where(s => s.SessionId == id).ToList();
            var resumed = steps.FindIndex(s => s.Resume is not null);
            Assert.True(resumed > 0, $"{id} was never resumed: {string.Join(",", steps.Select(s => s.Index))}");
            var interruptedAt = steps[resumed - 1].Index;
            Assert.Equal(Enumerable.Range(0, interruptedAt + 1), steps.Take(resumed).Select(s => s.Index));
            Assert.Equal(Enumerable.Range(interruptedAt, 8 - interruptedAt), steps.Skip(resumed).Select(s => s.Index));
            Assert.Equal((ResumeReasons.RestartTimeout, interruptedAt), (steps[resumed].Resume!.Reason, steps[resumed].Resume!.InterruptedStep));
        }

        Assert.NotEmpty(onStopping);
        Assert.All(ids.Except(onStopping), id => Assert.Equal(1, views[id].Turns[0].Executions));
    }

    [Fact]
    public async Task An_activation_that_stood_still_after_its_fence_asks_again_before_its_next_step()
    {
        // The pause of a SIGSTOP between a checkpoint's fence and the next step, made real: the checkpoint of step 1 (the
        // session's second state write, after the message and the turn's start in one) takes the session away, as crash detection
        // and a claim elsewhere would while the silo stood still, and then lasts 1.5 s.
        await using (var pause = _dataSource.CreateCommand("""
            CREATE TABLE test_pause (writes int NOT NULL);
            INSERT INTO test_pause VALUES (0);
            CREATE FUNCTION test_pause() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.grainidextensionstring = 'paused' THEN
                UPDATE test_pause SET writes = writes + 1;
                IF (SELECT writes FROM test_pause) = 2 THEN
                  UPDATE gateway_sessions SET epoch = epoch + 1 WHERE session_id = 'paused';
                  PERFORM pg_sleep(1.5);
                END IF;
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER test_pause BEFORE INSERT OR UPDATE ON orleansstorage FOR EACH ROW EXECUTE FUNCTION test_pause();
            """))
        {
            await pause.ExecuteNonQueryAsync();
        }

        await Session("paused").PostMessageAsync(new SessionMessage("m1", "work 20x100"));
        await Eventually.UntilAsync(async () =>
        {
            await using var writes = _dataSource.CreateCommand("SELECT writes FROM test_pause");
            return (int)(await writes.ExecuteScalarAsync())! >= 2;
        }, TimeSpan.FromSeconds(30), () => "the checkpoint of step 1 never came");
        await Task.Delay(TimeSpan.FromSeconds(3));

        // The write went through (its ETag still matched), but the step after it did not start: the fence was asked again.
        Assert.Equal([0], StepRecorder.Started.Where(s => s.SessionId == "paused").Select(s => s.Index));
    }

    [Fact]
    public async Task A_stale_marker_is_not_resumed_and_is_reported_as_stale()
    {
        // Interrupted two hours ago by a crash: older than the freshness window (1 h by default). Written in one
        // statement, so that no sweep can see it fresh in between; with it, the control: a marker of a minute ago.
        await using (var insert = _dataSource.CreateCommand(
            "INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, resume_marked_at) " +
            "VALUES ('stale', 'resume_pending', '10.9.9.9:1@1', 3, 't1', 'restart_interrupted', now() - interval '2 hours'), " +
            "       ('fresh', 'resume_pending', '10.9.9.9:1@1', 3, 't1', 'restart_interrupted', now() - interval '1 minute')"))
        {
            await insert.ExecuteNonQueryAsync();
        }

        // The sweepers (every 0.5 s) resume the fresh one (nothing is left to run in it: it becomes idle), and a few
        // sweeps later the stale one is still untouched.
        await Eventually.UntilAsync(async () => (await _ledger.GetAsync("fresh"))!.Phase == SessionPhase.Idle, TimeSpan.FromSeconds(15),
            () => $"the fresh marker was not resumed: {_ledger.GetAsync("fresh").Result}");
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var view = (await Session("stale").GetAsync())!;
        Assert.Equal((SessionPhase.ResumePending, true, ResumeReasons.RestartInterrupted), (view.Phase, view.Stale, view.ResumeReason));
        var row = (await _ledger.GetAsync("stale"))!;
        Assert.Equal((3L, 0), (row.Epoch, row.ResumeAttempts));
    }

    [Fact]
    public async Task An_activation_that_lost_its_session_stops_at_its_next_checkpoint_and_writes_nothing_more()
    {
        var session = Session("zombie");
        await session.PostMessageAsync(new SessionMessage("m1", "work 12x300"));
        await Eventually.UntilAsync(async () => (await session.GetAsync())!.Turns[0].StepsDone >= 2, TimeSpan.FromSeconds(10), () => "no step done");

        // A claim elsewhere took the session while this activation kept running (its silo declared dead but alive):
        // the epoch moved on, as the claim of another silo moves it.
        await using (var steal = _dataSource.CreateCommand(
            "UPDATE gateway_sessions SET epoch = epoch + 1, owner_silo = '10.9.9.9:1@1' WHERE session_id = 'zombie' RETURNING epoch"))
        {
            Assert.NotNull(await steal.ExecuteScalarAsync());
        }

        // The turn would be done in 3 s; well after that, the state still stops where the fence stopped it, and
        // the ledger row is the new owner's as it wrote it.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var view = (await session.GetAsync())!;
        Assert.True(view.Turns[0].StepsDone < 12, $"the activation that lost the session went on to step {view.Turns[0].StepsDone}");
        Assert.NotEqual(TurnStatus.Completed, view.Turns[0].Status);
        Assert.Null(view.Turns[0].Reply);
        var row = (await _ledger.GetAsync("zombie"))!;
        Assert.Equal((SessionPhase.Running, "10.9.9.9:1@1"), (row.Phase, row.OwnerSilo));
    }

    [Fact]
    public async Task A_claim_that_finds_nothing_to_run_moves_the_state_so_a_lost_activation_accepts_no_message()
    {
        // The claimer is the real grain, through a real sweep. The activation that lost the session (its silo declared
        // dead while alive) is played at the storage level by what it holds: the state and ETag read before the claim.
        // Its PostMessage writes exactly that state plus the new turn.
        var (session, storage, lost) = await IdleWithStoredStateAsync("nothing-left");

        // Crash detection found the session running on a dead silo after its last checkpoint: the claim finds nothing to run.
        await using (var crashed = _dataSource.CreateCommand(
            "UPDATE gateway_sessions SET phase = 'resume_pending', active_turn_id = 't1', resume_reason = 'restart_interrupted', " +
            "resume_marked_at = now(), epoch = epoch + 1 WHERE session_id = 'nothing-left' RETURNING epoch"))
        {
            var marked = (long)(await crashed.ExecuteScalarAsync())!;
            await Eventually.UntilAsync(async () => (await _ledger.GetAsync("nothing-left"))!.Epoch > marked, TimeSpan.FromSeconds(15),
                () => "no sweep claimed the session");
        }

        // Queued behind the claim's request: the claim and its state write are done.
        Assert.Equal(SessionPhase.Idle, (await session.GetAsync())!.Phase);
        lost.State!.Turns.Add(new TurnRecord { TurnId = "t2", MessageId = "m2", Text = "work 1x10", Status = TurnStatus.Queued });
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(GatewayStorageNames.SessionState, session.GetGrainId(), lost));
    }

    [Fact]
    public async Task A_message_stored_behind_an_idle_row_is_found_by_the_audit_and_runs_to_completion()
    {
        // What an activation with a fenced write-ahead used to leave (and a 0.1 silo still may): the message stored as
        // a queued turn while the ledger row says idle, with no owner running it and no marker. Played at the storage
        // level, as in the test above: that activation's state and ETag plus the new turn.
        var (session, storage, stored) = await IdleWithStoredStateAsync("idle-with-work");
        stored.State!.Turns.Add(new TurnRecord { TurnId = "t2", MessageId = "m2", Text = "work 2x10", Status = TurnStatus.Queued, StepsTotal = 2, AcceptedAt = DateTimeOffset.UtcNow });
        stored.State.LastTurnNumber = 2;
        await storage.WriteStateAsync(GatewayStorageNames.SessionState, session.GetGrainId(), stored);
        // Idle for longer than the audit's settle time (30 s) before the message was stored.
        await using (var idle = _dataSource.CreateCommand("UPDATE gateway_sessions SET updated_at = now() - interval '1 minute' WHERE session_id = 'idle-with-work'"))
        {
            await idle.ExecuteNonQueryAsync();
        }

        // The activation shows the state it holds until a claim reads the stored one.
        SessionView? done = null;
        await Eventually.UntilAsync(async () => (done = await session.GetAsync())!.Turns.Count == 2 && done.Turns[1].Status == TurnStatus.Completed
                && (await _ledger.GetAsync("idle-with-work"))!.Phase == SessionPhase.Idle,
            TimeSpan.FromSeconds(20), () => $"the stored message did not run: {_ledger.GetAsync("idle-with-work").Result}");

        Assert.Equal(["done 1 steps", "done 2 steps"], done!.Turns.Select(t => t.Reply));
        Assert.Equal(1, done.Turns[1].Executions);
        var row = (await _ledger.GetAsync("idle-with-work"))!;
        Assert.Equal((SessionPhase.Idle, 0, null), (row.Phase, row.ResumeAttempts, row.ResumeReason));
        await using var resumed = _dataSource.CreateCommand("SELECT detail FROM gateway_events WHERE session_id = 'idle-with-work' AND kind = @kind");
        resumed.Parameters.AddWithValue("kind", EventKinds.Resumed);
        Assert.StartsWith($"turn t2 from step 1 ({ResumeReasons.IdleWithWork})", (string?)await resumed.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_suspended_session_stops_and_stays_stopped_until_it_is_resumed()
    {
        var session = Session("suspend-me");
        await session.PostMessageAsync(new SessionMessage("m1", "work 10x200"));
        await Eventually.UntilAsync(async () => (await session.GetAsync())!.Turns[0].StepsDone >= 1, TimeSpan.FromSeconds(10), () => "no step done");

        var suspended = await session.SuspendAsync();
        var stepsAtSuspension = (await session.GetAsync())!.Turns[0].StepsDone;
        await session.PostMessageAsync(new SessionMessage("m2", "queued while suspended"));
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Assert.Equal((SessionCommandStatus.Done, SessionPhase.Suspended), (suspended.Status, suspended.Phase));
        var held = (await session.GetAsync())!;
        Assert.Equal(SessionPhase.Suspended, held.Phase);
        Assert.Equal((TurnStatus.Interrupted, stepsAtSuspension), (held.Turns[0].Status, held.Turns[0].StepsDone));
        Assert.Equal(TurnStatus.Queued, held.Turns[1].Status);

        var lifted = await session.LiftSuspensionAsync();
        var again = await session.LiftSuspensionAsync();

        Assert.Equal(SessionCommandStatus.Done, lifted.Status);
        Assert.Equal(SessionCommandStatus.Conflict, again.Status);
        var done = (await WaitUntilAllCompletedAsync(["suspend-me"]))["suspend-me"];
        Assert.Equal(["done 10 steps", "queued while suspended"], done.Turns.Select(t => t.Reply));
        Assert.Equal(2, done.Turns[0].Executions);
        Assert.Equal(SessionCommandStatus.NotFound, (await Session("never-was").SuspendAsync()).Status);
    }

    [Fact]
    public async Task An_operator_releases_a_quarantined_session_and_it_finishes_its_turn()
    {
        var session = Session("released");
        await session.PostMessageAsync(new SessionMessage("m1", "work 6x200"));
        await session.SuspendAsync();
        await using (var quarantine = _dataSource.CreateCommand(
            "UPDATE gateway_sessions SET phase = 'quarantined', resume_attempts = 3, last_error = 'poison?' WHERE session_id = 'released'"))
        {
            await quarantine.ExecuteNonQueryAsync();
        }

        var resumeInstead = await session.ResumeNowAsync();
        var released = await session.ReleaseAsync();
        var releasedAgain = await session.ReleaseAsync();

        Assert.Equal((SessionCommandStatus.Conflict, "session released is quarantined; release it instead"), (resumeInstead.Status, resumeInstead.Message));
        Assert.Equal((SessionCommandStatus.Done, SessionPhase.Running), (released.Status, released.Phase));
        Assert.Equal(SessionCommandStatus.Conflict, releasedAgain.Status);
        var done = (await WaitUntilAllCompletedAsync(["released"]))["released"];
        Assert.Equal("done 6 steps", done.Turns[0].Reply);
        var history = await new EventHistory(_dataSource).ReadForSessionAsync("released", 10);
        Assert.Equal([EventKinds.Resumed, EventKinds.Released, EventKinds.Suspended], history.Select(e => e.Kind));
    }

    [Fact]
    public async Task Each_silo_reports_on_itself_through_its_control_grain()
    {
        foreach (var silo in _cluster.Silos)
        {
            var address = silo.SiloAddress.ToParsableString();
            var report = await _cluster.Client.GetGrain<ISiloControlGrain>(address).GetReportAsync();

            Assert.Equal((address, true, false, SiloStopKind.Restart), (report.Address, report.Active, report.Draining, report.NextStop));
        }

        await Assert.ThrowsAnyAsync<Exception>(() => _cluster.Client.GetGrain<ISiloControlGrain>("10.9.9.9:1@1").GetReportAsync());
    }

    private ISessionGrain Session(string id) => _cluster.Client.GetGrain<ISessionGrain>(id);

    /// <summary>
    /// A session whose one short turn has ended, and what an activation holding it would write with: the grain storage
    /// of a silo, and the state with its ETag as read now.
    /// </summary>
    private async Task<(ISessionGrain Session, IGrainStorage Storage, GrainState<SessionState> State)> IdleWithStoredStateAsync(string id)
    {
        var session = Session(id);
        await session.PostMessageAsync(new SessionMessage("m1", "work 1x10"));
        await Eventually.UntilAsync(async () => (await _ledger.GetAsync(id))!.Phase == SessionPhase.Idle, TimeSpan.FromSeconds(10),
            () => "the turn did not end");
        var storage = _cluster.GetActiveSilos().OfType<InProcessSiloHandle>().First().SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(GatewayStorageNames.Sessions);
        // The state is written without the finished turn after the ledger's idle row: the ETag to hold is that write's.
        var state = new GrainState<SessionState>();
        await Eventually.UntilAsync(async () =>
            {
                await storage.ReadStateAsync(GatewayStorageNames.SessionState, session.GetGrainId(), state);
                return state.State is { Turns.Count: 0 };
            },
            TimeSpan.FromSeconds(10), () => "the state still lists the finished turn");
        return (session, storage, state);
    }

    private async Task<SiloHandle> OwnerAsync(string sessionId)
    {
        var owner = (await _ledger.GetAsync(sessionId))!.OwnerSilo;
        return _cluster.Silos.Single(s => s.SiloAddress.ToParsableString() == owner);
    }

    private async Task<Dictionary<string, SessionView>> WaitUntilAllCompletedAsync(IReadOnlyList<string> ids)
    {
        var views = new Dictionary<string, SessionView>();
        await Eventually.UntilAsync(async () =>
            {
                foreach (var id in ids)
                {
                    views[id] = (await Session(id).GetAsync())!;
                }

                return views.Values.All(v => v.Phase == SessionPhase.Idle && v.Turns.All(t => t.Status == TurnStatus.Completed));
            },
            TimeSpan.FromSeconds(60),
            () => string.Join("\n", views.Values.Where(v => v.Phase != SessionPhase.Idle)));
        return views;
    }
}
