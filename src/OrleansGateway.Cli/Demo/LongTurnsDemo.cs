using System.Diagnostics;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using Spectre.Console;

namespace OrleansGateway.Cli.Demo;

/// <summary>What one run of a demo works with, from the first post to the final account.</summary>
public sealed record DemoRun(DemoCluster Cluster, GatewayApi Api, SessionWatch Watch, DemoBoard Board, IReadOnlyList<string> SessionIds);

/// <summary>
/// The frame of the demos whose sessions each carry one long turn while the silos are stopped one by one (a rolling
/// restart, a rolling upgrade): post the turns, wait until they are half done, let the demo stop its silos, wait for
/// every turn, and account for each one. The point they make: no accepted turn is lost and none runs twice.
/// </summary>
public abstract class LongTurnsDemo(DemoSettings settings)
{
    protected Stopwatch Clock { get; } = new();

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

    /// <summary>Stops the silos one by one (and starts them or their successors); a clock of each stop's resumes.</summary>
    protected abstract Task<IReadOnlyList<ResumeClock>> StopSilosAsync(DemoRun run, CancellationToken stop);

    /// <summary>What the board says once every silo has been through <see cref="StopSilosAsync"/>: "every silo restarted".</summary>
    protected abstract string SilosDone { get; }

    /// <summary>The closing line when every turn completed exactly once.</summary>
    protected abstract string Success(DemoCluster cluster);

    /// <summary>Rows a demo adds to the closing table, from every session's final read.</summary>
    protected virtual void AddRows(DemoReport report, IReadOnlyDictionary<string, SessionRead?> final)
    {
    }

    /// <summary>Runs the demo on <paramref name="cluster"/>: 0 when every turn completed once, else a <see cref="CliError"/> after the table.</summary>
    protected async Task<int> RunOnAsync(DemoCluster cluster, CancellationToken stop)
    {
        TableOutput.Write(cluster.SiloTable());
        await using var dataSource = GatewayDataSource.Create(cluster.ConnectionString, "ogw-demo");
        // An attached demo talks to silos that may ask for a key: that of `ogw up`, as a user's shell has it.
        using var api = new GatewayApi(Environment.GetEnvironmentVariable(Commands.UpCommand.ApiKeyVariable));
        Clock.Start();
        var board = new DemoBoard(settings, Clock);
        foreach (var silo in cluster.Silos)
        {
            board.SetSilo(silo.Name, SiloState.Ready, silo.BaseAddress);
        }

        // Session ids of their own for every run: the embedded database keeps the sessions of earlier runs.
        var runId = $"{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}"[..13];
        var sessionIds = Enumerable.Range(1, settings.Sessions).Select(i => $"demo-{runId}-{i:000}").ToList();
        await using var watch = new SessionWatch(sessionIds, new SessionQueries(dataSource), api, board.ServingSilos, Clock);
        board.Watch = watch;

        var run = new DemoRun(cluster, api, watch, board, sessionIds);
        var report = await DemoDisplay.ShowWhileAsync(board, () => PlayAsync(run, new EventHistory(dataSource), stop));
        TableOutput.Write(report.ToTable());
        if (report.Failure is { } failure)
        {
            throw new CliError(failure);
        }

        AnsiConsole.MarkupLine(Success(cluster));
        return 0;
    }

    /// <summary>
    /// Stops silo <paramref name="index"/> as an orchestrator does (SIGTERM; with a kill delay a SIGKILL shortly
    /// after), and waits for its exit; SIGKILL when it takes too long.
    /// </summary>
    protected async Task<ResumeClock> StopSiloAsync(DemoRun run, int index, TimeSpan? killAfter, CancellationToken stop)
    {
        var (cluster, board) = (run.Cluster, run.Board);
        var silo = cluster.Silos[index];
        var name = silo.Name;
        var resumeClock = new ResumeClock(name, await run.Watch.RunningOnAsync(silo.SiloPort, stop));
        run.Watch.Follow(resumeClock);

        board.SetSilo(name, SiloState.Draining, silo.BaseAddress);
        board.Say(resumeClock.Turns == 0
            ? $"{name}: {cluster.StopName} with no turns running"
            : $"{name}: {cluster.StopName} with {resumeClock.Turns} turns running; it premarks them and drains");
        var terminatedAt = Clock.Elapsed;
        await cluster.RequestStopAsync(index, stop);
        var killed = false;
        if (killAfter is { } delay && !await cluster.WaitForExitAsync(index, delay, stop) && cluster.TryKill(index))
        {
            killed = true;
            resumeClock.StartAt(Clock.Elapsed);
            board.SetSilo(name, SiloState.Killed, silo.BaseAddress);
            board.Say($"{name}: SIGKILL {Durations.Format(delay)} into its drain");
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

        board.Say($"{name}: {cluster.DescribeExit(index)}{(killed ? " (SIGKILL)" : "")} after {Durations.Format(Clock.Elapsed - terminatedAt)}");
        return resumeClock;
    }

    private async Task<DemoReport> PlayAsync(DemoRun run, EventHistory events, CancellationToken stop)
    {
        var posted = await PostMessagesAsync(run, stop);
        run.Watch.Start();
        await WaitForMidTurnAsync(run, posted, stop);
        var clocks = await StopSilosAsync(run, stop);
        await WaitForCompletionAsync(run, posted, stop);
        run.Board.Say("reading every session for the final account");
        var final = await run.Watch.ReadAllAsync(TimeSpan.FromSeconds(30), stop);
        var starts = await CountExplainedStartsAsync(events, run.SessionIds, stop);
        var report = DemoReport.Build(settings, posted, final, starts, run.Watch, clocks);
        AddRows(report, final);
        return report;
    }

    /// <summary>One message per session, spread over the silos (a session lives where its first message arrived).</summary>
    private async Task<IReadOnlyList<PostedTurn>> PostMessagesAsync(DemoRun run, CancellationToken stop)
    {
        var sessionIds = run.SessionIds;
        run.Board.Say($"posting '{settings.WorkText}' to {sessionIds.Count} sessions, spread over {run.Cluster.Silos.Count} silos");
        var silos = run.Cluster.Silos.Select(silo => silo.BaseAddress).ToList();
        var posted = new PostedTurn[sessionIds.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, sessionIds.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stop },
            async (index, token) =>
            {
                var sessionId = sessionIds[index];
                var messageId = $"{sessionId}-m1";
                var turnId = await run.Api.PostMessageAsync(silos[index % silos.Count], sessionId, messageId, settings.WorkText, token);
                posted[index] = new PostedTurn(sessionId, messageId, turnId);
            });
        run.Board.Say($"{posted.Length} messages accepted");
        return posted;
    }

    /// <summary>Waits until every turn has checkpointed some steps, so that a stop interrupts work half done.</summary>
    private async Task WaitForMidTurnAsync(DemoRun run, IReadOnlyList<PostedTurn> posted, CancellationToken stop)
    {
        var watch = run.Watch;
        var threshold = Math.Max(1, settings.Steps / 4);
        run.Board.Say($"waiting until every turn has done {threshold} of {settings.Steps} steps");
        var timeout = settings.TurnDuration + TimeSpan.FromSeconds(60);
        var started = await UntilAsync(() => posted.All(turn => TurnOf(watch, turn) is { } seen && (seen.StepsDone >= threshold || seen.IsCompleted)), timeout, stop);
        if (!started)
        {
            var waiting = posted.Where(turn => TurnOf(watch, turn) is not { } seen || seen.StepsDone < threshold && !seen.IsCompleted).Select(turn => turn.SessionId);
            throw new CliError($"turns did not get going within {Durations.Format(timeout)}: {string.Join(", ", waiting.Take(5))} (see the silo logs in {LocalClusterEnvironment.LogDirectory})");
        }
    }

    private async Task WaitForCompletionAsync(DemoRun run, IReadOnlyList<PostedTurn> posted, CancellationToken stop)
    {
        run.Board.Say($"{SilosDone}; waiting up to {Durations.Format(settings.CompletionTimeout)} for every turn to complete");
        var waitedFrom = Clock.Elapsed;
        if (await UntilAsync(() => posted.All(turn => IsDone(run.Watch, turn)), settings.CompletionTimeout, stop))
        {
            run.Board.Say($"all {posted.Count} turns completed, {Durations.Format(Clock.Elapsed - waitedFrom)} after the last stop");
            return;
        }

        var open = posted.Where(turn => !IsDone(run.Watch, turn)).Select(turn => turn.SessionId).ToList();
        run.Board.Say($"{open.Count} turns did not complete in time: {string.Join(", ", open.Take(10))}{(open.Count > 10 ? ", ..." : "")}");
    }

    private static bool IsDone(SessionWatch watch, PostedTurn turn) =>
        TurnOf(watch, turn) is { IsCompleted: true } && watch.Rows.TryGetValue(turn.SessionId, out var row) && row.Phase == SessionPhase.Idle;

    private static TurnResponse? TurnOf(SessionWatch watch, PostedTurn turn) =>
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
