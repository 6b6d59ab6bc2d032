using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.Resume;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Upgrade;

namespace OrleansGateway.Operations;

/// <summary>The silo a <see cref="ISiloControlGrain"/> reports on and steers: the one its key names.</summary>
[SiloKeyPlacement]
internal sealed partial class SiloControlGrain(
    SiloRunState runState,
    RunningTurns runningTurns,
    ActiveSessions activeSessions,
    EventHistory events,
    ILocalSiloDetails localSilo,
    SiloVersions versions,
    IHostApplicationLifetime lifetime,
    ILogger<SiloControlGrain> logger) : Grain, ISiloControlGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The placement director put this grain here only if the key named this silo; a stale reference to a
        // silo that restarted (new generation) must not report on its successor.
        var address = localSilo.SiloAddress.ToParsableString();
        return this.GetPrimaryKeyString() == address
            ? Task.CompletedTask
            : throw new OrleansException($"silo {this.GetPrimaryKeyString()} is not in the cluster (this is {address})");
    }

    public Task<SiloReport> GetReportAsync() => Task.FromResult(Report());

    public async Task<SiloStopAnswer> RequestStopAsync(SiloStopKind kind)
    {
        if (!runState.TryRequestStop(kind, out var refusal))
        {
            LogStopRefused(kind, refusal);
            return new SiloStopAnswer(Accepted: false, refusal, Report());
        }

        // Draining from now, not from when the host's stop reaches the premark a moment later: no turn or resume claim
        // starts here in between, /readyz says 503 at once, and the answer says draining. The premark takes this stop.
        runState.BeginDraining();
        await events.AppendAsync(EventKinds.StopRequested, sessionId: null, localSilo.SiloAddress.ToParsableString(), actor: null,
            kind == SiloStopKind.Restart ? "restart: sessions are premarked restart_timeout" : "drain: sessions are premarked shutdown_timeout");
        LogStopRequested(kind);

        // After this call has answered: the stop deactivates this grain among all others.
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200));
            lifetime.StopApplication();
        });
        return new SiloStopAnswer(Accepted: true, Refusal: null, Report());
    }

    private SiloReport Report() => new(
        localSilo.SiloAddress.ToParsableString(),
        runState.IsActive,
        runState.IsDraining,
        // This grain is an activation too; it is not a session.
        activeSessions.Count,
        runningTurns.Count,
        versions.Local.Text,
        runState.StopIntent == StopIntent.Restart ? SiloStopKind.Restart : SiloStopKind.Drain);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An operator asked this silo to {Kind}; stopping gracefully")]
    private partial void LogStopRequested(SiloStopKind kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An operator asked this silo to {Kind}; refused: {Refusal}")]
    private partial void LogStopRefused(SiloStopKind kind, string refusal);
}

/// <summary>Places a grain on the silo its string key names (a parsable silo address).</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
internal sealed class SiloKeyPlacement : PlacementStrategy
{
    internal static readonly SiloKeyPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class)]
internal sealed class SiloKeyPlacementAttribute() : PlacementAttribute(SiloKeyPlacement.Instance);

internal sealed class SiloKeyPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var silos = context.GetCompatibleSilos(target);
        var silo = silos.FirstOrDefault(s => s.ToParsableString() == key);
        return silo is not null
            ? Task.FromResult(silo)
            : throw new OrleansException($"silo {key} is not in the cluster");
    }
}
