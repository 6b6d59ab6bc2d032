using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Cli.Operator;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Cli.Demo.Chaos;

/// <summary>
/// What the soak does to its cluster, one action per round, each ending with the cluster whole again (every silo
/// back and ready). Keeps what the step-trace check needs: when each silo process ended, when one was frozen.
/// </summary>
public sealed class ChaosMoves(LocalClusterHost host, ChaosSettings settings, OperatorApiClient dashboard, MembershipTable membership,
    SessionQueries ledger, IReadOnlyList<string> sessionIds)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    // Long enough for any failure detection a local cluster is given; the fast one declares a silo dead in ~5 s.
    private static readonly TimeSpan DeathTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan SelfStopTimeout = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<int, bool> _down = new();
    private readonly ConcurrentDictionary<int, DateTimeOffset> _exits = new();
    private readonly ConcurrentQueue<Freeze> _freezes = new();

    public IReadOnlyDictionary<int, DateTimeOffset> Exits => _exits;

    public IReadOnlyList<Freeze> Freezes => [.. _freezes];

    /// <summary>The HTTP addresses of the silos the soak has not taken down: where its users post.</summary>
    public IReadOnlyList<Uri> SilosUp() => [.. host.Silos.Where((_, index) => !_down.ContainsKey(index)).Select(silo => silo.BaseAddress)];

    /// <summary>
    /// Plays <paramref name="round"/>; what happened, in a line. A silo's stop hits the silo that runs the most of the
    /// soak's turns at that moment (sessions gather on the silos that stopped least recently), else the plan's.
    /// </summary>
    public async Task<string> PlayAsync(ChaosRound round, CancellationToken stop)
    {
        var silo = round.Action is ChaosAction.Terminate or ChaosAction.KillInDrain or ChaosAction.Kill or ChaosAction.Zombie or ChaosAction.DashboardDrain
            ? await BusiestAsync(stop) ?? round.Silo
            : round.Silo;
        return round.Action switch
        {
            ChaosAction.Terminate => await StopAndStartAsync(silo, killAfter: null, stop),
            ChaosAction.KillInDrain => await StopAndStartAsync(silo, round.Pause, stop),
            ChaosAction.Kill => await KillAndStartAsync(silo, stop),
            ChaosAction.Zombie => await FreezeAsync(silo, stop),
            ChaosAction.PostgresRestart => await RestartPostgresAsync(round.Pause, stop),
            ChaosAction.OperatorSuspend => await SuspendAndResumeAsync(sessionIds[round.Session], round.Pause, stop),
            ChaosAction.DashboardDrain => await DrainAndStartAsync(silo, stop),
            _ => throw new ArgumentOutOfRangeException(nameof(round), round.Action, null),
        };
    }

    private async Task<int?> BusiestAsync(CancellationToken stop)
    {
        var running = (await ChaosSoak.RetryAsync(() => ledger.GetManyAsync(sessionIds, stop), stop))
            .Where(row => row.Phase == SessionPhase.Running && row.OwnerSilo is not null)
            .GroupBy(row => AttachedDemoCluster.PortOf(row.OwnerSilo!))
            .OrderByDescending(owner => owner.Count())
            .FirstOrDefault();
        var index = running is null ? -1 : host.Silos.ToList().FindIndex(silo => silo.Settings.SiloPort == running.Key);
        return index >= 0 ? index : null;
    }

    private async Task<string> StopAndStartAsync(int index, TimeSpan? killAfter, CancellationToken stop)
    {
        var silo = Take(index);
        var clock = Stopwatch.StartNew();
        silo.Terminate();
        var ended = killAfter is { } delay && !await silo.WaitForExitAsync(delay, stop)
            ? $"SIGKILL {Durations.Format(clock.Elapsed)} into its drain"
            : null;
        if (ended is not null)
        {
            Kill(silo);
        }

        ended ??= await WaitForExitAsync(silo, settings.ExitTimeout, "SIGTERM", stop);
        return $"{silo.Settings.Name}: {ended}; {await StartAgainAsync(index, stop)}";
    }

    private async Task<string> KillAndStartAsync(int index, CancellationToken stop)
    {
        var silo = Take(index);
        Kill(silo);
        await silo.WaitForExitAsync(Timeout.InfiniteTimeSpan, stop);
        return $"{silo.Settings.Name}: SIGKILL; {await StartAgainAsync(index, stop)}";
    }

    /// <summary>A zombie: frozen until the cluster declares it dead, then woken. Orleans has it end itself once it learns.</summary>
    private async Task<string> FreezeAsync(int index, CancellationToken stop)
    {
        var address = await ActiveAddressAsync(index, stop);
        var silo = Take(index);
        var frozenAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        silo.Freeze();
        var declared = await UntilAsync(async () => (await membership.ReadSilosAsync(LocalClusterEnvironment.ClusterId, stop)).Any(row => row.Address == address && row.Status == SiloStatuses.Dead),
            DeathTimeout, stop);
        var frozenFor = clock.Elapsed;
        silo.Thaw();
        _freezes.Enqueue(new Freeze(silo.ProcessId, frozenAt, DateTimeOffset.UtcNow));
        var verdict = declared ? $"declared dead after {Durations.Format(frozenFor)}" : $"not declared dead within {Durations.Format(frozenFor)}";
        clock.Restart();
        string ended;
        if (await silo.WaitForExitAsync(SelfStopTimeout, stop))
        {
            _exits.TryAdd(silo.ProcessId, DateTimeOffset.UtcNow);
            ended = $"on SIGCONT it ended itself in {Durations.Format(clock.Elapsed)} (exit code {silo.ExitCode})";
        }
        else
        {
            Kill(silo);
            ended = $"still running {Durations.Format(SelfStopTimeout)} after SIGCONT: SIGKILL";
        }

        return $"{silo.Settings.Name}: SIGSTOP, {verdict}, SIGCONT; {ended}; {await StartAgainAsync(index, stop)}";
    }

    private async Task<string> RestartPostgresAsync(TimeSpan downtime, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        await host.RestartPostgresAsync(downtime, stop);
        return $"PostgreSQL: fast stop (connections cut), down {Durations.Format(downtime)}, back after {Durations.Format(clock.Elapsed)}";
    }

    /// <summary>
    /// An operator suspends a session and resumes it a moment later, as the dashboard's buttons do. A resume the
    /// dashboard does not take is asked again; one never taken leaves the session suspended, and its turns unfinished.
    /// </summary>
    private async Task<string> SuspendAndResumeAsync(string sessionId, TimeSpan suspension, CancellationToken stop)
    {
        string suspended;
        try
        {
            suspended = (await dashboard.ChangeSessionAsync(sessionId, SessionAction.Suspend, stop)).Value.Message;
        }
        catch (CliError refused)
        {
            return $"{sessionId}: suspend not taken ({refused.Message})";
        }

        await Task.Delay(suspension, stop);
        var problem = "";
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            try
            {
                var resumed = await dashboard.ChangeSessionAsync(sessionId, SessionAction.Resume, stop);
                return $"{sessionId}: suspended ({suspended}), {Durations.Format(suspension)} later resumed ({resumed.Value.Message})";
            }
            catch (CliError refused)
            {
                problem = refused.Message;
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
        }

        return $"{sessionId}: suspended ({suspended}); resume not taken: {problem}";
    }

    private async Task<string> DrainAndStartAsync(int index, CancellationToken stop)
    {
        var address = await ActiveAddressAsync(index, stop);
        var silo = Take(index);
        var report = await dashboard.ChangeSiloAsync(address, SiloAction.Drain, stop);
        var ended = await WaitForExitAsync(silo, settings.ExitTimeout, "drain", stop);
        return $"{silo.Settings.Name}: drained through the dashboard ({report.Value.RunningTurns} turns running); {ended}; {await StartAgainAsync(index, stop)}";
    }

    private SiloProcess Take(int index)
    {
        _down[index] = true;
        return host.Silos[index];
    }

    private void Kill(SiloProcess silo)
    {
        // Before the signal: no step of the process can run after it.
        _exits.TryAdd(silo.ProcessId, DateTimeOffset.UtcNow);
        silo.Kill();
    }

    private async Task<string> WaitForExitAsync(SiloProcess silo, TimeSpan timeout, string cause, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        if (await silo.WaitForExitAsync(timeout, stop))
        {
            _exits.TryAdd(silo.ProcessId, DateTimeOffset.UtcNow);
            return $"exited with code {silo.ExitCode} after {Durations.Format(clock.Elapsed)}";
        }

        Kill(silo);
        await silo.WaitForExitAsync(Timeout.InfiniteTimeSpan, stop);
        return $"still running {Durations.Format(timeout)} after the {cause}: SIGKILL";
    }

    private async Task<string> StartAgainAsync(int index, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        await host.RestartSiloAsync(index, stop);
        _down.TryRemove(index, out _);
        return $"ready again after {Durations.Format(clock.Elapsed)}";
    }

    private async Task<string> ActiveAddressAsync(int index, CancellationToken stop)
    {
        var port = host.Silos[index].Settings.SiloPort;
        var rows = await membership.ReadSilosAsync(LocalClusterEnvironment.ClusterId, stop);
        return rows.FirstOrDefault(row => row.Status == SiloStatuses.Active && AttachedDemoCluster.PortOf(row.Address) == port)?.Address
            ?? throw new CliError($"{host.Silos[index].Settings.Name} (port {port}) is not Active in the membership table");
    }

    private static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(Poll, stop);
        }

        return false;
    }
}
