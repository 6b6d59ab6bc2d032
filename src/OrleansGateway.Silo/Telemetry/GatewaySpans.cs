using System.Diagnostics;
using OrleansGateway.ServiceDefaults.Telemetry;

namespace OrleansGateway.Telemetry;

/// <summary>
/// The silo's spans, on <see cref="GatewayTelemetry.ActivitySource"/>: null when nobody listens, so an untraced silo
/// pays one check per span. Their parents come from the ambient activity (ASP.NET Core's request, Orleans' grain call).
/// </summary>
internal static class GatewaySpans
{
    public static class Tags
    {
        public const string TurnId = GatewayTelemetry.Tags.TurnId;
        public const string Outcome = GatewayTelemetry.Tags.Outcome;
        public const string Count = GatewayTelemetry.Tags.Count;
    }

    private static ActivitySource Source => GatewayTelemetry.ActivitySource;

    public static Activity? StartAccept(string sessionId, string messageId) =>
        Source.StartActivity("ogw.accept")?.SetTag(GatewayTelemetry.Tags.SessionId, sessionId).SetTag("ogw.message.id", messageId);

    public static Activity? StartTurn(string sessionId, string turnId, string? resumeReason) =>
        Source.StartActivity(ActivityKind.Internal, parentContext: default, links: LoopLink.Value is { } link ? [link] : null, name: "ogw.turn")?.SetTag(GatewayTelemetry.Tags.SessionId, sessionId).SetTag(GatewayTelemetry.Tags.TurnId, turnId)
            .SetTag(GatewayTelemetry.Tags.Reason, resumeReason);

    public static Activity? StartStep(string sessionId, string turnId, int step) =>
        Source.StartActivity("ogw.step")?.SetTag(GatewayTelemetry.Tags.SessionId, sessionId).SetTag(GatewayTelemetry.Tags.TurnId, turnId)
            .SetTag(GatewayTelemetry.Tags.Step, step);

    public static Activity? StartClaim(string sessionId, string? reason) =>
        Source.StartActivity("ogw.claim")?.SetTag(GatewayTelemetry.Tags.SessionId, sessionId).SetTag(GatewayTelemetry.Tags.Reason, reason);

    public static Activity? StartPremark(Guid stopId, string reason) =>
        Source.StartActivity("ogw.premark")?.SetTag(GatewayTelemetry.Tags.StopId, stopId).SetTag(GatewayTelemetry.Tags.Reason, reason);

    public static Activity? StartDrain(Guid stopId) => Source.StartActivity("ogw.drain")?.SetTag(GatewayTelemetry.Tags.StopId, stopId);

    /// <summary>A sweep is a root of its own: the loop that runs it has no request to belong to.</summary>
    public static Activity? StartSweep() => Source.StartActivity("ogw.sweep");

    /// <summary>
    /// Starts <paramref name="loop"/> (a session's turn loop) outside the ambient span: its turns run for minutes after the
    /// accept or claim that started them returned, and as their children they would stretch those spans' traces. Each
    /// turn is a root span instead, linked to the span that started the loop.
    /// </summary>
    public static Task RunDetached(Func<Task> loop)
    {
        var starter = Activity.Current;
        if (starter is null)
        {
            return loop();
        }

        Activity.Current = null;
        try
        {
            var link = new ActivityLink(starter.Context);
            return RunLinkedAsync(loop, link);
        }
        finally
        {
            // Only this method's caller sees the change undone; the loop's own async flow keeps it cleared.
            Activity.Current = starter;
        }
    }

    private static async Task RunLinkedAsync(Func<Task> loop, ActivityLink link)
    {
        LoopLink.Value = link;
        await loop();
    }

    // The link each turn span of a loop carries to the span that started the loop.
    private static readonly AsyncLocal<ActivityLink?> LoopLink = new();
}
