using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// What every demo of long turns shares: its own cluster, the work each session carries, and how its silos drain
/// when they are stopped.
/// </summary>
public abstract record DemoSettings(
    LocalClusterSpec Cluster,
    int Sessions,
    int Steps,
    int StepMilliseconds,
    TimeSpan DrainTimeout)
{
    /// <summary>After a drain timeout, how long interrupted turns get to checkpoint the step in flight.</summary>
    public static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(2);

    // The silo's Gateway:Resume:StopMargin default: grain deactivation and leaving the cluster after the drain.
    private static readonly TimeSpan SiloStopMargin = TimeSpan.FromSeconds(5);

    /// <summary>The heading of the live view.</summary>
    public abstract string Title { get; }

    /// <summary>What ends a stopped silo's turns: the signal its time to resume is measured from.</summary>
    public virtual string StopSignal => "SIGTERM";

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

    /// <summary>How long, after the last stop, every turn gets to complete before the demo calls the rest lost.</summary>
    public TimeSpan CompletionTimeout => TurnDuration + TimeSpan.FromSeconds(90);

    /// <summary>
    /// The cluster with the demo's silo settings: stops are restarts (sessions are premarked <c>restart_timeout</c>),
    /// drains short enough to watch, and failure detection that finds a killed silo in seconds.
    /// </summary>
    public virtual LocalClusterSpec DemoCluster => Cluster with
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
