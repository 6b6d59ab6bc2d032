using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;
using static OrleansGateway.Tests.Infrastructure.ClusterSessions;

namespace OrleansGateway.Tests.Cluster;

/// <summary>
/// The resume lifecycle with real silo processes, real SIGTERM and real SIGKILL. Failure detection is tuned
/// (<see cref="SiloProcessCluster.FastFailureDetection"/>): a killed silo is declared dead within a few seconds.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ResumeProcessTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_seed_scenario_SIGKILL_during_the_drain_loses_no_turn()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("seed"));
        var settings = Settings(("Gateway__Resume__DrainTimeout", "00:01:00"), ("HostOptions__ShutdownTimeout", "00:01:30"), ("Gateway__Resume__StopIntent", "Restart"));
        var silo = await cluster.StartSiloAsync("seed", settings);
        var ids = Enumerable.Range(0, 50).Select(i => $"seed-{i}").ToList();
        await PostAllAsync(ids, _ => silo, "work 10x400");
        await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");

        // SIGTERM with a drain longer than we wait, then SIGKILL in the middle of the drain: systemd and
        // Kubernetes do exactly this when the grace period runs out.
        silo.Terminate();
        var premarked = await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.ResumePending), "all premarked", TimeSpan.FromSeconds(10));
        silo.Kill();
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(premarked.Select(r => r.PremarkStopId).Distinct());
        Assert.All(premarked, r => Assert.Equal(ResumeReasons.RestartTimeout, r.ResumeReason));
        Assert.DoesNotContain("drain finished", silo.ReadLog());

        var restarted = await cluster.StartSiloAsync("seed-restarted", settings);

        var sessions = await WaitUntilCompletedAsync(cluster, ids, restarted);
        foreach (var (id, session) in sessions)
        {
            var turn = Assert.Single(session.GetProperty("turns").EnumerateArray());
            Assert.Equal(("done 10 steps", 10), (turn.GetProperty("reply").GetString(), turn.GetProperty("stepsDone").GetInt32()));
            Assert.True(turn.GetProperty("executions").GetInt32() == 2, $"{id} ran {turn.GetProperty("executions")} times");
        }
    }

    [Fact]
    public async Task A_silo_killed_without_any_shutdown_has_its_sessions_resumed_by_the_survivor()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("crash"));
        var doomed = await cluster.StartSiloAsync("doomed");
        var survivor = await cluster.StartSiloAsync("survivor");
        var ids = Enumerable.Range(0, 30).Select(i => $"crash-{i}").ToList();
        await PostAllAsync(ids, _ => doomed, "work 12x500");
        var running = await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");
        var doomedAddress = Assert.Single(running.Select(r => r.OwnerSilo).Distinct());

        doomed.Kill();

        var sessions = await WaitUntilCompletedAsync(cluster, ids, survivor);
        Assert.All(sessions.Values, s => Assert.Equal(2, s.GetProperty("turns")[0].GetProperty("executions").GetInt32()));
        Assert.Contains($"sessions of dead silos marked resume_pending", survivor.ReadLog());
        var owners = (await ReadLedgerAsync(cluster, ids)).Select(r => r.OwnerSilo).Distinct();
        Assert.DoesNotContain(doomedAddress, owners);
    }

    [Fact]
    public async Task A_drain_that_finishes_clears_only_this_stops_markers_of_completed_turns()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("drain"));
        var settings = Settings(("Gateway__Resume__DrainTimeout", "00:00:30"), ("HostOptions__ShutdownTimeout", "00:01:00"), ("Gateway__Agent__FaultInjection", "true"));
        var silo = await cluster.StartSiloAsync("drain", settings);
        var completing = new[] { "done-1", "done-2", "done-3" };
        await PostAllAsync(completing, _ => silo, "work 4x400");
        await PostAllAsync(["failing"], _ => silo, "fail 3x400");
        await PostAllAsync(["queued"], _ => silo, "work 3x400");
        await PostAllAsync(["queued"], _ => silo, "work 1x600000", messageId: "m2");

        // A marker from an earlier interruption, owned by this silo and leased by another silo's sweeper.
        var owner = (await ReadLedgerAsync(cluster, ["done-1"]))[0].OwnerSilo!;
        await ExecuteAsync(cluster, $"""
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, resume_reason, premark_stop_id, resume_marked_at, resume_leased_by, resume_lease_until)
            VALUES ('earlier', 'resume_pending', '{owner}', 7, 'shutdown_timeout', '{Guid.NewGuid()}', now() - interval '1 minute', 'elsewhere', now() + interval '1 hour')
            """);
        var earlier = (await ReadLedgerAsync(cluster, ["earlier"]))[0];

        silo.Terminate();
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(40)), cluster.Logs());
        Assert.Equal(0, silo.ExitCode);
        Assert.Contains("drain finished", silo.ReadLog());

        var rows = (await ReadLedgerAsync(cluster, [.. completing, "failing", "queued", "earlier"])).ToDictionary(r => r.SessionId);
        var stop = rows["queued"].PremarkStopId;
        Assert.NotNull(stop);
        Assert.All(completing, id => Assert.Equal((SessionPhase.Idle, null, null), (rows[id].Phase, rows[id].PremarkStopId, rows[id].ResumeMarkedAt)));
        Assert.Equal((SessionPhase.ResumePending, stop), (rows["failing"].Phase, rows["failing"].PremarkStopId));
        Assert.Contains("scripted failure", rows["failing"].LastError);
        Assert.Equal((SessionPhase.ResumePending, ResumeReasons.ShutdownTimeout, "t2"), (rows["queued"].Phase, rows["queued"].ResumeReason, rows["queued"].ActiveTurnId));
        Assert.Equal(earlier, rows["earlier"]);

        // The queued turn that never started is resumed, its message not lost.
        var restarted = await cluster.StartSiloAsync("drain-restarted", settings);
        JsonElement? queued = null;
        await Eventually.UntilAsync(async () =>
            {
                queued = await SiloProcessCluster.GetSessionAsync(restarted, "queued");
                return queued?.GetProperty("turns")[1].GetProperty("status").GetString() == "running";
            },
            TimeSpan.FromSeconds(30), () => $"{queued}\n{cluster.Logs()}");
        Assert.Equal(("completed", 1, 1), (queued!.Value.GetProperty("turns")[0].GetProperty("status").GetString(),
            queued.Value.GetProperty("turns")[0].GetProperty("executions").GetInt32(), queued.Value.GetProperty("turns")[1].GetProperty("executions").GetInt32()));
        Assert.Equal(earlier, (await ReadLedgerAsync(cluster, ["earlier"]))[0]);
    }

    [Fact]
    public async Task A_rolling_restart_of_every_silo_completes_every_turn()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("rolling"));
        var settings = Settings(("Gateway__Resume__DrainTimeout", "00:00:02"), ("Gateway__Resume__InterruptGrace", "00:00:02"), ("Gateway__Resume__StopIntent", "Restart"));
        var silos = new List<SiloProcess>();
        for (var i = 0; i < 3; i++)
        {
            silos.Add(await cluster.StartSiloAsync($"rolling-{i}", settings));
        }

        // Turns longer than the whole rolling restart, also on a busy machine (a stop and a start take 5 to 15 s
        // each): every silo stops with turns running, and turns resumed on a silo are interrupted again when that
        // silo's turn comes.
        var ids = Enumerable.Range(0, 100).Select(i => $"rolling-{i}").ToList();
        await PostAllAsync(ids, i => silos[i % 3], "work 60x800");
        await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");

        for (var i = 0; i < 3; i++)
        {
            silos[i].Terminate();
            Assert.True(await silos[i].WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());
            Assert.Equal(0, silos[i].ExitCode);
            Assert.Matches(@"premarked [1-9]\d* sessions resume_pending \(restart_timeout\)", silos[i].ReadLog());
            silos[i] = await cluster.StartSiloAsync($"rolling-{i}-restarted", settings);
        }

        var sessions = await WaitUntilCompletedAsync(cluster, ids, silos[0]);
        foreach (var session in sessions.Values)
        {
            var turn = Assert.Single(session.GetProperty("turns").EnumerateArray());
            Assert.Equal(("done 60 steps", 60), (turn.GetProperty("reply").GetString(), turn.GetProperty("stepsDone").GetInt32()));
            Assert.InRange(turn.GetProperty("executions").GetInt32(), 1, 7);
        }

        Assert.Contains(sessions.Values, s => s.GetProperty("turns")[0].GetProperty("executions").GetInt32() > 1);

        // The first stop's sessions resumed on both survivors, not all on one.
        var firstStopResumedOn = await FirstResumedOnAsync(cluster, [.. ids.Where((_, i) => i % 3 == 0)]);
        Assert.True(firstStopResumedOn.Distinct().Count() >= 2, $"all on {string.Join(", ", firstStopResumedOn.Distinct())}");

        // The feed: six silos joined; the three stopped ones left, in order, and none of them counts as dead.
        var joined = await SiloEventsAsync(cluster, EventKinds.SiloJoined);
        Assert.Equal(6, joined.Distinct().Count());
        Assert.Equal(joined.Take(3), await SiloEventsAsync(cluster, EventKinds.SiloLeft));
        Assert.Empty(await SiloEventsAsync(cluster, EventKinds.SiloDeclaredDead));
    }

    [Fact]
    public async Task Stopping_a_silo_leaves_the_turns_running_on_its_neighbours_alone()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("neighbours"));
        var settings = Settings(("Gateway__Resume__DrainTimeout", "00:00:01"), ("Gateway__Resume__InterruptGrace", "00:00:01"));
        var working = await cluster.StartSiloAsync("working", settings);
        var leaving = await cluster.StartSiloAsync("leaving", settings);
        var third = await cluster.StartSiloAsync("third", settings);
        var ids = Enumerable.Range(0, 40).Select(i => $"neighbour-{i}").ToList();
        await PostAllAsync(ids, _ => working, "work 12x500");
        await WaitForLedgerAsync(cluster, ids, rows => rows.All(r => r.Phase == SessionPhase.Running), "all running");

        // The leaving silo holds part of the grain directory, entries of the working silo's sessions among them.
        leaving.Terminate();
        Assert.True(await leaving.WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());

        var sessions = await WaitUntilCompletedAsync(cluster, ids, third);
        Assert.All(sessions, s => Assert.True(s.Value.GetProperty("turns")[0].GetProperty("executions").GetInt32() == 1,
            $"{s.Key} was interrupted by the stop of another silo: {s.Value}"));
    }

    [Fact]
    public async Task A_poison_session_that_kills_its_silo_every_time_ends_quarantined_and_the_cluster_stays_up()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("poison"));
        var settings = Settings(("Gateway__Agent__FaultInjection", "true"), ("Gateway__Resume__MaxAttempts", "3"));
        var silos = new List<SiloProcess>();
        for (var i = 0; i < 3; i++)
        {
            silos.Add(await cluster.StartSiloAsync($"poison-{i}", settings));
        }

        // Like systemd's Restart=always: a silo that dies comes back.
        var restarts = 0;
        using var supervising = new CancellationTokenSource();
        var supervisor = Task.Run(async () =>
        {
            while (!supervising.IsCancellationRequested)
            {
                for (var i = 0; i < silos.Count; i++)
                {
                    if (silos[i].HasExited)
                    {
                        silos[i] = await cluster.StartSiloAsync($"poison-{i}-after-{++restarts}", settings);
                    }
                }

                await Task.Delay(200);
            }
        });

        try
        {
            using var client = SiloProcessCluster.ClientFor(silos[0]);
            await client.PostAsJsonAsync("api/sessions/poison/messages", new { text = "crash" }).ContinueWith(_ => { });

            await WaitForLedgerAsync(cluster, ["poison"], rows => rows[0].Phase == SessionPhase.Quarantined, "poison quarantined", CompletionTimeout);

            // The supervisor brings the last victim back.
            await Eventually.UntilAsync(() => Task.FromResult(silos.All(s => !s.HasExited) && restarts == 4), TimeSpan.FromSeconds(60), () => $"{restarts} restarts");
        }
        finally
        {
            await supervising.CancelAsync();
            await supervisor;
        }

        // The first run and each of the three resumes crashed one silo: every resume ran exactly once.
        Assert.Equal(4, cluster.CountLogLines("scripted crash in session poison"));
        var row = (await ReadLedgerAsync(cluster, ["poison"]))[0];
        Assert.StartsWith("quarantined after 3 resumes without progress", row.LastError);

        var healthy = await cluster.StartSiloAsync("healthy", settings);
        await PostAllAsync(["after-poison"], _ => healthy, "work 2x100");
        await WaitUntilCompletedAsync(cluster, ["after-poison"], healthy);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(SessionPhase.Quarantined, (await ReadLedgerAsync(cluster, ["poison"]))[0].Phase);
        Assert.All(silos, s => Assert.False(s.HasExited));

        // Its turn says it was started 4 times, although no start after the first reached a checkpoint.
        using var reader = SiloProcessCluster.ClientFor(healthy);
        var poison = await reader.GetFromJsonAsync<JsonElement>("api/sessions/poison");
        Assert.Equal(4, poison.GetProperty("turns")[0].GetProperty("executions").GetInt32());

        // Every silo that started joined; each of the four killed was declared dead once for the cluster, though two
        // survivors saw it die, and none left.
        List<string> joined = [], killed = [], deaths = [];
        await Eventually.UntilAsync(async () =>
            {
                joined = await SiloEventsAsync(cluster, EventKinds.SiloJoined);
                killed = [.. joined.Except(await ActiveSilosAsync(cluster)).Order()];
                deaths = await SiloEventsAsync(cluster, EventKinds.SiloDeclaredDead);
                return killed.Count == 4 && deaths.Count >= killed.Count;
            },
            TimeSpan.FromSeconds(30), () => $"joined: {string.Join(", ", joined)}; declared dead: {string.Join(", ", deaths)}; killed: {string.Join(", ", killed)}");
        Assert.Equal(8, joined.Distinct().Count());
        Assert.Equal(killed, deaths.Order());
        Assert.Empty(await SiloEventsAsync(cluster, EventKinds.SiloLeft));
    }
}
