using System.Diagnostics;

namespace OrleansGateway.ServiceDefaults.Telemetry;

/// <summary>
/// The names under which the gateway's own telemetry is published, and its one <see cref="System.Diagnostics.ActivitySource"/>.
/// Every deployable enables these names (<see cref="GatewayTelemetryExtensions.AddGatewayTelemetry"/>); the silo's
/// instruments live in its <c>GatewayMetrics</c>, created from the host's meter factory so that silos sharing a process
/// (the tests' in-process clusters) keep their numbers apart.
/// </summary>
public static class GatewayTelemetry
{
    /// <summary>The meter and activity source name of the gateway's own instruments and spans.</summary>
    public const string Name = "OrleansGateway";

    /// <summary>The spans of accept, turn, step, premark, drain, sweep and claim.</summary>
    public static readonly ActivitySource ActivitySource = new(Name, typeof(GatewayTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Orleans' activity sources (grain calls, lifecycle, storage) and its meter.</summary>
    public const string OrleansSources = "Microsoft.Orleans.*";

    /// <summary>Orleans' meter (silo, messaging, grain, membership instruments).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Where every deployable serves its metrics in Prometheus' text format.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Span and metric attribute names, OpenTelemetry style under the <c>ogw.</c> namespace.</summary>
    public static class Tags
    {
        public const string SessionId = "ogw.session.id";
        public const string TurnId = "ogw.turn.id";
        public const string Step = "ogw.step";
        public const string Reason = "ogw.resume.reason";
        public const string Outcome = "ogw.outcome";
        public const string Phase = "ogw.phase";
        public const string StopId = "ogw.stop.id";
        public const string Count = "ogw.count";
    }
}
