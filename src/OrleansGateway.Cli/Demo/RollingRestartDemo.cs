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
        await using DemoCluster cluster = settings.Dashboard is { } dashboard
            ? await AttachedDemoCluster.ConnectAsync(dashboard, settings.Cluster.FirstPorts, settings.Cluster.Silos, LocalCluster.ResolveConnectionString(null), stop)
            : new OwnDemoCluster(await LocalClusterHost.StartAsync(settings.DemoCluster, stop));
        AnsiConsole.Write(cluster.SiloTable());

        await using var dataSource = GatewayDataSource.Create(cluster.ConnectionString, "ogw-demo");
        using var api = new GatewayApi();
        _clock.Start();
        var board = new DemoBoard(settings, _clock);
        foreach (var silo in cluster.Silos)
        {
            board.SetSilo(silo.Name, SiloState.Ready, silo.BaseAddress);
        }

        // Session ids of their own for every run: the embedded database keeps the sessions of earlier runs.
        var run = $"{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}"[..13];
        var sessionIds = Enumerable.Range(1, settings.Sessions).Select(i => $"demo-{run}-{i:000}").ToList();
        await using var watch = new SessionWatch(sessionIds, new SessionLedger(dataSource), api, board.ServingSilos, _clock);
        board.Watch = watch;

        var events = new EventHistory(dataSource);
        var report = await DemoDisplay.ShowWhileAsync(board, () => PlayAsync(cluster, api, watch, events, board, sessionIds, stop));
        AnsiConsole.Write(report.ToTable());
        if (report.Failure is { } failure)
        {
            throw new CliError(failure);
        }

        AnsiConsole.MarkupLine($"[green]Every accepted turn completed exactly once[/] across the restart of {cluster.Silos.Count} silos.");
        return 0;
    }

    private async Task<DemoReport> PlayAsync(DemoCluster cluster, GatewayApi api, SessionWatch watch, EventHistory events, DemoBoard board,
        IReadOnlyList<string> sessionIds, CancellationToken stop)
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
        var starts = await CountExplainedStartsAsync(events, sessionIds, stop);
        return DemoReport.Build(settings, posted, final, starts, watch, clocks);
    }

    /// <summary>
    /// How many starts of its turn each session's history explains: the first, one per resume claim, one per lifted
    /// suspension. A turn that ran more often than that was started by something that should not start it.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, int>> CountExplainedStartsAsync(EventHistory events, IReadOnlyList<string> sessionIds,
        CancellationToken stop)
    {
        var starts = new Dictionary<string, int>();
        foreach (var sessionId in sessionIds)
        {
            var history = await events.ReadForSessionAsync(sessionId, limit: 10_000, stop);
            starts[sessionId] = 1 + history.Count(e => e.Kind is EventKinds.Resumed or EventKinds.SuspensionLifted);
        }

        return starts;
    }

    /// <summary>One message per session, spread over the silos (a session lives where its first message arrived).</summary>
    private async Task<IReadOnlyList<PostedTurn>> PostMessagesAsync(DemoCluster cluster, GatewayApi api, DemoBoard board, IReadOnlyList<string> sessionIds,
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
    private async Task<ResumeClock> RestartAsync(DemoCluster cluster, int index, SessionWatch watch, DemoBoard board, CancellationToken stop)
    {
        var silo = cluster.Silos[index];
        var name = silo.Name;
        var resumeClock = new ResumeClock(name, await watch.RunningOnAsync(silo.SiloPort, stop));
        watch.Follow(resumeClock);

        board.SetSilo(name, SiloState.Draining, silo.BaseAddress);
        board.Say(resumeClock.Turns == 0
            ? $"{name}: {cluster.StopName} with no turns running"
            : $"{name}: {cluster.StopName} with {resumeClock.Turns} turns running; it premarks them and drains");
        var terminatedAt = _clock.Elapsed;
        await cluster.RequestStopAsync(index, stop);
        var killed = false;
        if (settings.KillAfter is { } killAfter && !await cluster.WaitForExitAsync(index, killAfter, stop) && cluster.TryKill(index))
        {
            killed = true;
            resumeClock.StartAt(_clock.Elapsed);
            board.SetSilo(name, SiloState.Killed, silo.BaseAddress);
            board.Say($"{name}: SIGKILL {Durations.Format(killAfter)} into its drain");
        }
        else
        {
            resumeClock.StartAt(terminatedAt);
        }

        if (!await cluster.WaitForExitAsync(index, settings.ExitTimeout, stop))
        {
            board.Say($"{name}: still running {Durations.Format(settings.ExitTimeout)} after the {cluster.StopName}; SIGKILL");
            if (!cluster.TryKill(index))
            {
                throw new CliError($"{name} did not stop within {Durations.Format(settings.ExitTimeout)}");
            }

            await cluster.WaitForExitAsync(index, Timeout.InfiniteTimeSpan, stop);
        }

        board.Say($"{name}: {cluster.DescribeExit(index)}{(killed ? " (SIGKILL)" : "")} after {Durations.Format(_clock.Elapsed - terminatedAt)}; starting it again on the same ports");
        board.SetSilo(name, SiloState.Starting, silo.BaseAddress);
        var startedAt = _clock.Elapsed;
        await cluster.StartAgainAsync(index, stop);
        board.SetSilo(name, SiloState.Ready, silo.BaseAddress);
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
