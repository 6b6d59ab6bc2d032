using OrleansGateway.Cli.Operator;
using OrleansGateway.Cli.Cluster;

namespace OrleansGateway.Cli.Demo;

/// <summary>One run of <c>ogw demo rolling-restart</c>: the cluster, the work it carries, and how its silos are stopped.</summary>
/// <param name="KillAfter">With <c>--kill-during-drain</c>: how long after its SIGTERM each silo is SIGKILLed.</param>
public sealed record RollingRestartSettings(
    LocalClusterSpec Cluster,
    int Sessions,
    int Steps,
    int StepMilliseconds,
    TimeSpan DrainTimeout,
    TimeSpan? KillAfter)
{
    /// <summary>
    /// The dashboard of a running <c>ogw up</c> cluster to restart instead of a cluster of the demo's own
    /// (<c>--attach</c>); null for its own cluster.
    /// </summary>
    public OperatorApiClient? Dashboard { get; init; }

    /// <summary>After a drain timeout, how long interrupted turns get to checkpoint the step in flight.</summary>
    public static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(2);

    // The silo's Gateway:Resume:StopMargin default: grain deactivation and leaving the cluster after the drain.
    private static readonly TimeSpan SiloStopMargin = TimeSpan.FromSeconds(5);

    public string WorkText => $"work {Steps}x{StepMilliseconds}";

    public TimeSpan TurnDuration => TimeSpan.FromMilliseconds((double)Steps * StepMilliseconds);

    /// <summary>The reply a completed turn must carry (the built-in agent's).</summary>
    public string ExpectedReply => $"done {Steps} steps";

    /// <summary>
    /// The host's shutdown timeout: room for the whole drain budget and then some, so that the silo's start-up
    /// check does not warn and the host does not cut the drain short.
    /// </summary>
    public TimeSpan SiloShutdownTimeout => DrainTimeout + InterruptGrace + SiloStopMargin + TimeSpan.FromSeconds(10);

    /// <summary>How long a SIGTERMed silo may take to exit before the demo SIGKILLs it (and says so).</summary>
    public TimeSpan ExitTimeout => SiloShutdownTimeout + TimeSpan.FromSeconds(20);

    /// <summary>How long, after the last restart, every turn gets to complete before the demo calls the rest lost.</summary>
    public TimeSpan CompletionTimeout => TurnDuration + TimeSpan.FromSeconds(90);

    /// <summary>
    /// The cluster with the demo's silo settings: stops are restarts (sessions are premarked <c>restart_timeout</c>),
    /// drains short enough to watch, and failure detection that finds a killed silo in seconds.
    /// </summary>
    public LocalClusterSpec DemoCluster => Cluster with
    {
        SiloEnvironment = new Dictionary<string, string>(LocalClusterHost.FastFailureDetection)
        {
            ["Gateway__Resume__StopIntent"] = "Restart",
            ["Gateway__Resume__DrainTimeout"] = DrainTimeout.ToString("c"),
            ["Gateway__Resume__InterruptGrace"] = InterruptGrace.ToString("c"),
            ["HostOptions__ShutdownTimeout"] = SiloShutdownTimeout.ToString("c"),
            // The silo's "Orleans": "Warning" filter is a category prefix and so also hides the gateway's own
            // information (resumes, interruptions), which is what a person reads the demo's silo logs for.
            ["Logging__LogLevel__OrleansGateway"] = "Information",
        },
        StopGrace = ExitTimeout,
    };
}
