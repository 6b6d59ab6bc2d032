using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Demo.Chaos;

/// <summary>
/// <c>ogw demo chaos</c>: its cluster (with a dashboard for the operator's actions), how many rounds of which seed,
/// and the sessions that carry work meanwhile (turns of 4 to 16 steps of <see cref="DemoSettings.StepMilliseconds"/>).
/// </summary>
public sealed record ChaosSettings(LocalClusterSpec Cluster, int Rounds, int Seed, int Sessions, int StepMilliseconds, TimeSpan DrainTimeout,
    DashboardSpec Dashboard, string TraceFolder)
    : DemoSettings(Cluster, Sessions, MaxSteps, StepMilliseconds, DrainTimeout)
{
    public const int MinSteps = 4;
    public const int MaxSteps = 16;

    public override string Title => "Chaos soak";

    /// <summary>The demo's silos, with a dashboard, and the scripted agent's step trace for the overlap check.</summary>
    public override LocalClusterSpec DemoCluster => base.DemoCluster with
    {
        Dashboard = Dashboard,
        SiloEnvironment = new Dictionary<string, string>(base.DemoCluster.SiloEnvironment) { ["Gateway__Agent__StepTrace"] = TraceFolder },
    };

    /// <summary>The command that replays this run's plan.</summary>
    public string ReplayCommand => $"ogw demo chaos --rounds {Rounds} --seed {Seed} --silos {Cluster.Silos} --sessions {Sessions} --step-ms {StepMilliseconds}";
}
