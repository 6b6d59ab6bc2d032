using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// <c>ogw demo rolling-restart</c>: a local cluster carries long turns while each silo in turn is stopped
/// (SIGTERM, optionally SIGKILL in the middle of its drain) and started again on the same ports.
/// </summary>
public sealed class RollingRestartDemo(RollingRestartSettings settings) : LongTurnsDemo(settings)
{
    private readonly RollingRestartSettings _settings = settings;

    public async Task<int> RunAsync(CancellationToken stop)
    {
        await using DemoCluster cluster = _settings.Dashboard is { } dashboard
            ? await AttachedDemoCluster.ConnectAsync(dashboard, _settings.Cluster.FirstPorts, _settings.Cluster.Silos, LocalClusterEnvironment.ResolveConnectionString(null), stop)
            : new OwnDemoCluster(await LocalClusterHost.StartAsync(_settings.DemoCluster, stop));
        return await RunOnAsync(cluster, stop);
    }

    protected override string SilosDone => "every silo restarted";

    protected override string Success(DemoCluster cluster) =>
        $"[green]Every accepted turn completed exactly once[/] across the restart of {cluster.Silos.Count} silos.";

    protected override async Task<IReadOnlyList<ResumeClock>> StopSilosAsync(DemoRun run, CancellationToken stop)
    {
        var clocks = new List<ResumeClock>();
        for (var index = 0; index < run.Cluster.Silos.Count; index++)
        {
            clocks.Add(await StopSiloAsync(run, index, _settings.KillAfter, stop));
            var silo = run.Cluster.Silos[index];
            run.Board.Say($"{silo.Name}: starting it again on the same ports");
            run.Board.SetSilo(silo.Name, SiloState.Starting, silo.BaseAddress);
            var startedAt = Clock.Elapsed;
            await run.Cluster.StartAgainAsync(index, stop);
            run.Board.SetSilo(silo.Name, SiloState.Ready, silo.BaseAddress);
            run.Board.Say($"{silo.Name}: ready again after {Durations.Format(Clock.Elapsed - startedAt)}");
        }

        return clocks;
    }
}
