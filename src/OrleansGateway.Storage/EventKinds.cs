namespace OrleansGateway.Storage;

/// <summary>What happened, in the words of <c>gateway_events.kind</c>.</summary>
public static class EventKinds
{
    public const string Premark = "premark";
    public const string DrainFinished = "drain_finished";
    public const string DrainTimedOut = "drain_timed_out";
    public const string CrashDetected = "crash_detected";
    public const string Resumed = "resumed";
    public const string Quarantined = "quarantined";
    public const string Suspended = "suspended";
    public const string SuspensionLifted = "suspension_lifted";
    public const string Released = "released";
    public const string StopRequested = "stop_requested";

    /// <summary>A new message ended a session's stale interruption (too old to be resumed) and runs instead.</summary>
    public const string Abandoned = "abandoned";

    /// <summary>The session was deleted; this event, kept with its id, is all that is left of it.</summary>
    public const string Deleted = "deleted";

    /// <summary>An operator acted through the dashboard (also when refused); <c>actor</c> is the operator token's name.</summary>
    public const string OperatorAction = "operator_action";

    /// <summary>A silo became Active in the cluster; <c>silo</c> is its address, the detail its name, generation and version.</summary>
    public const string SiloJoined = "silo_joined";

    /// <summary>A silo left the cluster on its own, after its drain (written by the silo itself).</summary>
    public const string SiloLeft = "silo_left";

    /// <summary>
    /// The cluster declared a silo dead that did not leave (a crash, a kill, a freeze): written once for the cluster by the
    /// first sweep that sees it (<see cref="EventHistory.AppendDeclaredDeadAsync"/>).
    /// </summary>
    public const string SiloDeclaredDead = "silo_declared_dead";
}
