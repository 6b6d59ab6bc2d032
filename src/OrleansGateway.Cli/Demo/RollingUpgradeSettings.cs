using System.Reflection;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Demo;

/// <summary>One run of <c>ogw demo rolling-upgrade</c>: the release it starts from, its cluster, and the work it carries.</summary>
public sealed record RollingUpgradeSettings(
    LocalClusterSpec Cluster,
    int Sessions,
    int Steps,
    int StepMilliseconds,
    TimeSpan DrainTimeout,
    UpgradeOrigin Origin) : DemoSettings(Cluster, Sessions, Steps, StepMilliseconds, DrainTimeout)
{
    /// <summary>The embedded server's database for the demo: it starts at an old schema, so never the one of <c>ogw up</c>.</summary>
    public const string EmbeddedDatabase = "ogw_rolling_upgrade";

    /// <summary>This build's version, as its silos publish it (without the commit).</summary>
    public static string CurrentVersion { get; } =
        (typeof(RollingUpgradeSettings).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "current").Split('+')[0];

    public override string Title =>
        $"Rolling upgrade {Origin.Label} → {CurrentVersion}: {Cluster.Silos} silos, {Sessions} sessions of '{WorkText}'";

    /// <summary>The old release's silos, on its schema, with room for one successor of this build per silo.</summary>
    public override LocalClusterSpec DemoCluster => base.DemoCluster with
    {
        SiloAssembly = Origin.Programs.Silo,
        SchemaVersion = Origin.Schema,
        Successors = Cluster.Silos,
        EmbeddedDatabase = EmbeddedDatabase,
    };
}
