using OrleansGateway.Cli.Commands;
using OrleansGateway.Cli.Operator;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Cli.Demo;

/// <summary>One run of <c>ogw demo rolling-restart</c>: the cluster, the work it carries, and how its silos are stopped.</summary>
/// <param name="KillAfter">With <c>--kill-during-drain</c>: how long after its SIGTERM each silo is SIGKILLed.</param>
public sealed record RollingRestartSettings(
    LocalClusterSpec Cluster,
    int Sessions,
    int Steps,
    int StepMilliseconds,
    TimeSpan DrainTimeout,
    TimeSpan? KillAfter) : DemoSettings(Cluster, Sessions, Steps, StepMilliseconds, DrainTimeout)
{
    /// <summary>
    /// The dashboard of a running <c>ogw up</c> cluster to restart instead of a cluster of the demo's own
    /// (<c>--attach</c>); null for its own cluster.
    /// </summary>
    public OperatorApiClient? Dashboard { get; init; }

    public override string Title => $"Rolling restart: {Cluster.Silos} silos, {Sessions} sessions of '{WorkText}'" +
        (KillAfter is { } kill ? $", SIGKILL {Durations.Format(kill)} into each drain" : "");

    public override string StopSignal => KillAfter is null ? "SIGTERM" : "SIGKILL";
}
