using System.Globalization;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// <c>ogw demo rolling-upgrade</c>: silos of an old release carry long turns on its schema; the schema moves to this
/// build's while they serve; then each is replaced by a silo of this build as Kubernetes rolls a Deployment with
/// maxSurge 1: the new silo is ready before the old one gets SIGTERM.
/// </summary>
public sealed class RollingUpgradeDemo(RollingUpgradeSettings settings) : LongTurnsDemo(settings)
{
    private readonly RollingUpgradeSettings _settings = settings;
    private VersionTimeline? _versions;
    private OwnDemoCluster? _cluster;

    public async Task<int> RunAsync(CancellationToken stop)
    {
        await using var cluster = new OwnDemoCluster(await LocalClusterHost.StartAsync(_settings.DemoCluster, stop));
        await using var dataSource = GatewayDataSource.Create(cluster.ConnectionString, "ogw-demo-versions");
        _cluster = cluster;
        _versions = new VersionTimeline(new MembershipTable(dataSource), LocalClusterEnvironment.ClusterId, Clock);
        return await RunOnAsync(cluster, stop);
    }

    protected override string SilosDone => $"every silo runs {RollingUpgradeSettings.CurrentVersion}";

    protected override string Success(DemoCluster cluster) =>
        $"[green]Every accepted turn completed exactly once[/] across the upgrade of {cluster.Silos.Count} silos from {_settings.Origin.Label} to {RollingUpgradeSettings.CurrentVersion}.";

    protected override async Task<IReadOnlyList<ResumeClock>> StopSilosAsync(DemoRun run, CancellationToken stop)
    {
        var cluster = _cluster!;
        var (board, label, current) = (run.Board, _settings.Origin.Label, RollingUpgradeSettings.CurrentVersion);
        await RecordVersionsAsync(board, stop);

        board.Say($"migrating the database to schema {SchemaMigrator.LatestVersion} while {label} serves");
        var migration = await ClusterDatabase.MigrateAsync(cluster.ConnectionString, stop);
        board.Say($"schema {migration.FromVersion} → {migration.ToVersion} ({migration.Applied.Count} scripts); {label} serves on");

        var clocks = new List<ResumeClock>();
        for (var index = 0; index < cluster.Silos.Count; index++)
        {
            var old = cluster.Silos[index];
            board.Say($"starting a silo of {current} beside {old.Name}");
            var startedAt = Clock.Elapsed;
            var successor = await cluster.StartSuccessorAsync(index, stop);
            board.SetSilo(successor.Name, SiloState.Ready, successor.BaseAddress);
            board.Say($"{successor.Name} ({current}, {successor.BaseAddress}): ready after {Durations.Format(Clock.Elapsed - startedAt)}");
            await RecordVersionsAsync(board, stop);

            clocks.Add(await StopSiloAsync(run, index, killAfter: null, stop));
            board.SetSilo(old.Name, SiloState.Stopped, old.BaseAddress);
            await cluster.ReplaceWithSuccessorAsync(index);
            await RecordVersionsAsync(board, stop);
        }

        return clocks;
    }

    protected override void AddRows(DemoReport report, IReadOnlyDictionary<string, SessionRead?> final)
    {
        var interruptions = final.Values.Select(read => read?.Session).OfType<SessionResponse>()
            .Select(session => Math.Max(0, session.Turns.Sum(turn => turn.Executions) - 1)).DefaultIfEmpty(0).ToList();
        report.Add("max interruptions", interruptions.Max().ToString(CultureInfo.InvariantCulture),
            $"per session, starts of its turn after the first; silos of {_settings.Origin.Label} may resume a session that their own stop interrupts again");
        report.Add("mean interruptions", interruptions.Average().ToString("0.00", CultureInfo.InvariantCulture), "per session");
        report.Add("versions", _versions!.Lines(), "Active silos by version after each step (membership table)");
    }

    private async Task RecordVersionsAsync(DemoBoard board, CancellationToken stop) => board.Versions = await _versions!.RecordAsync(stop);
}
