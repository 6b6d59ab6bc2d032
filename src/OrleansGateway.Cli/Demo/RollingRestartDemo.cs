using System.Diagnostics;
using OrleansGateway.Cli.Cluster;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// <c>ogw demo rolling-restart</c>: a local cluster carries long turns while each silo in turn is stopped
/// (SIGTERM, optionally SIGKILL in the middle of its drain) and started again; then it shows what became of
/// every turn. The point it makes: no accepted turn is lost and none runs twice.
/// </summary>
public sealed class RollingRestartDemo(RollingRestartSettings settings)
{
    private readonly Stopwatch _clock = new();

    public async Task<int> RunAsync(CancellationToken stop)
    {
        await using var cluster = await LocalClusterHost.StartAsync(settings.DemoCluster, stop);
        AnsiConsole.Write(cluster.SiloTable());

        await using var dataSource = GatewayDataSource.Create(cluster.ConnectionString, "ogw-demo");
        using var api = new GatewayApi();
        _clock.Start();
        var board = new DemoBoard(settings, _clock);
        foreach (var silo in cluster.Silos)
        {
            board.SetSilo(silo.Settings.Name, SiloState.Ready, silo.BaseAddress);
        }

        // Session ids of their own for every run: the embedded database keeps the sessions of earlier runs.
        var run = $"{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}"[..13];
        var sessionIds = Enumerable.Range(1, settings.Sessions).Select(i => $"demo-{run}-{i:000}").ToList();
        await using var watch = new SessionWatch(sessionIds, new SessionLedger(dataSource), api, board.ServingSilos, _clock);
        board.Watch = watch;

        var report = await DemoDisplay.ShowWhileAsync(board, () => PlayAsync(cluster, api, watch, board, sessionIds, stop));
        AnsiConsole.Write(report.ToTable());
        if (report.Failure is { } failure)
        {
            throw new CliError(failure);
        }

        AnsiConsole.MarkupLine($"[green]Every accepted turn completed exactly once[/] across the restart of {cluster.Silos.Count} silos.");
        return 0;
    }

    private async Task<DemoReport> PlayAsync(LocalClusterHost cluster, GatewayApi api, SessionWatch watch, DemoBoard board, IReadOnlyList<string> sessionIds,
        CancellationToken stop)
    {
        var posted = await PostMessagesAsync(cluster, api, board, sessionIds, stop);
        watch.Start();
        await WaitForMidTurnAsync(watch, board, posted, stop);

        var clocks = new List<ResumeClock>();
        for (var index = 0; index < cluster.Silos.Count; index++)
        {
            clocks.Add(await RestartAsync(cluster, index, watch, board, stop));
        }

        await WaitForCompletionAsync(watch, board, posted, stop);
        board.Say("reading every session for the final account");
        var final = await watch.ReadAllAsync(TimeSpan.FromSeconds(30), stop);
        return DemoReport.Build(settings, posted, final, watch, clocks);
    }

    /// <summary>One message per session, spread over the silos (a session lives where its first message arrived).</summary>
    private async Task<IReadOnlyList<PostedTurn>> PostMessagesAsync(LocalClusterHost cluster, GatewayApi api, DemoBoard board, IReadOnlyList<string> sessionIds,
        CancellationToken stop)
    {
        board.Say($"posting '{settings.WorkText}' to {sessionIds.Count} sessions, spread over {cluster.Silos.Count} silos");
        var silos = cluster.Silos.Select(silo => silo.BaseAddress).ToList();
        var posted = new PostedTurn[sessionIds.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, sessionIds.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stop },
            async (index, token) =>
            {
                var sessionId = sessionIds[index];
                var messageId = $"{sessionId}-m1";
                var turnId = await api.PostMessageAsync(silos[index % silos.Count], sessionId, messageId, settings.WorkText, token);
                posted[index] = new PostedTurn(sessionId, messageId, turnId);
            });
        board.Say($"{posted.Length} messages accepted");
        return posted;
    }

    /// <summary>Waits until every turn has checkpointed some steps, so that a stop interrupts work half done.</summary>
    private async Task WaitForMidTurnAsync(SessionWatch watch, DemoBoard board, IReadOnlyList<PostedTurn> posted, CancellationToken stop)
    {
        var threshold = Math.Max(1, settings.Steps / 4);
        board.Say($"waiting until every turn has done {threshold} of {settings.Steps} steps");
        var timeout = settings.TurnDuration + TimeSpan.FromSeconds(60);
        var started = await UntilAsync(() => posted.All(turn => TurnOf(watch, turn) is { } seen && (seen.StepsDone >= threshold || seen.IsCompleted)), timeout, stop);
        if (!started)
        {
            var waiting = posted.Where(turn => TurnOf(watch, turn) is not { } seen || seen.StepsDone < threshold && !seen.IsCompleted).Select(turn => turn.SessionId);
            throw new CliError($"turns did not get going within {Durations.Format(timeout)}: {string.Join(", ", waiting.Take(5))} (see the silo logs in {LocalCluster.LogDirectory})");
        }
    }

    /// <summary>
    /// Stops silo <paramref name="index"/> as an orchestrator does (SIGTERM; with <c>--kill-during-drain</c> a SIGKILL
    /// shortly after), waits for its exit and starts it again on the same ports.
    /// </summary>
    private async Task<ResumeClock> RestartAsync(LocalClusterHost cluster, int index, SessionWatch watch, DemoBoard board, CancellationToken stop)
    {
        var silo = cluster.Silos[index];
        var name = silo.Settings.Name;
        var resumeClock = new ResumeClock(name, await watch.RunningOnAsync(silo.Settings.SiloPort, stop));
        watch.Follow(resumeClock);

        board.SetSilo(name, SiloState.Draining, silo.BaseAddress);
        board.Say(resumeClock.Turns == 0
            ? $"{name}: SIGTERM with no turns running"
            : $"{name}: SIGTERM with {resumeClock.Turns} turns running; it premarks them and drains for up to {Durations.Format(settings.DrainTimeout)}");
        var terminatedAt = _clock.Elapsed;
        silo.Terminate();
        var killed = false;
        if (settings.KillAfter is { } killAfter && !await silo.WaitForExitAsync(killAfter, stop))
        {
            silo.Kill();
            killed = true;
            resumeClock.StartAt(_clock.Elapsed);
            board.SetSilo(name, SiloState.Killed, silo.BaseAddress);
            board.Say($"{name}: SIGKILL {Durations.Format(killAfter)} into its drain");
        }
        else
        {
            resumeClock.StartAt(terminatedAt);
        }

        if (!await silo.WaitForExitAsync(settings.ExitTimeout, stop))
        {
            board.Say($"{name}: still running {Durations.Format(settings.ExitTimeout)} after SIGTERM; SIGKILL");
            silo.Kill();
            await silo.WaitForExitAsync(Timeout.InfiniteTimeSpan, stop);
        }

        // A silo with nothing to drain may finish its stop just as the SIGKILL goes out.
        var note = killed && silo.ExitCode == 0 ? " (its stop had finished just before the SIGKILL)" : "";
        board.Say($"{name}: exited with code {silo.ExitCode}{note} after {Durations.Format(_clock.Elapsed - terminatedAt)}; starting it again on the same ports");
        board.SetSilo(name, SiloState.Starting, silo.BaseAddress);
        var startedAt = _clock.Elapsed;
        var restarted = await cluster.RestartSiloAsync(index, stop);
        board.SetSilo(name, SiloState.Ready, restarted.BaseAddress);
        board.Say($"{name}: ready again after {Durations.Format(_clock.Elapsed - startedAt)}");
        return resumeClock;
    }

    private async Task WaitForCompletionAsync(SessionWatch watch, DemoBoard board, IReadOnlyList<PostedTurn> posted, CancellationToken stop)
    {
        board.Say($"every silo restarted; waiting up to {Durations.Format(settings.CompletionTimeout)} for every turn to complete");
        var waitedFrom = _clock.Elapsed;
        if (await UntilAsync(() => posted.All(turn => IsDone(watch, turn)), settings.CompletionTimeout, stop))
        {
            board.Say($"all {posted.Count} turns completed, {Durations.Format(_clock.Elapsed - waitedFrom)} after the last restart");
            return;
        }

        var open = posted.Where(turn => !IsDone(watch, turn)).Select(turn => turn.SessionId).ToList();
        board.Say($"{open.Count} turns did not complete in time: {string.Join(", ", open.Take(10))}{(open.Count > 10 ? ", ..." : "")}");
    }

    private static bool IsDone(SessionWatch watch, PostedTurn turn) =>
        TurnOf(watch, turn) is { IsCompleted: true } && watch.Rows.TryGetValue(turn.SessionId, out var row) && row.Phase == SessionPhase.Idle;

    private static TurnDocument? TurnOf(SessionWatch watch, PostedTurn turn) =>
        watch.Documents.TryGetValue(turn.SessionId, out var session) ? session.Turns.FirstOrDefault(t => t.TurnId == turn.TurnId) : null;

    private static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken stop)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(200, stop);
        }

        return true;
    }
}
