using Orleans.Runtime;
using OrleansGateway.Resume;
using OrleansGateway.Storage;
using OrleansGateway.Upgrade;

namespace OrleansGateway.Hosting;

/// <summary>
/// The silo's own <see cref="EventKinds.SiloJoined"/> and <see cref="EventKinds.SiloLeft"/> events, at the
/// <see cref="ServiceLifecycleStage.Active"/> stage: it starts once the membership lists this silo as Active, and it
/// stops after the drain (a stage above) and before the silo leaves the membership (stages below), so that a sweeper
/// that sees this silo Dead finds it left (<see cref="EventHistory.AppendDeclaredDeadAsync"/>).
/// </summary>
internal sealed partial class SiloPresenceEvents(
    EventHistory events,
    SiloRunState runState,
    SiloVersions versions,
    ILocalSiloDetails localSilo,
    ILogger<SiloPresenceEvents> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    // The leave is written after a drain that may have used the host's whole timeout: it gets a bound of its own.
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(5);

    private bool _joined;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloPresenceEvents), ServiceLifecycleStage.Active, JoinAsync, LeaveAsync);

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        _joined = true;
        await AppendAsync(EventKinds.SiloJoined, Describe("joined"), cancellationToken);
    }

    private async Task LeaveAsync(CancellationToken cancellationToken)
    {
        if (!_joined)
        {
            return;
        }

        using var bound = new CancellationTokenSource(LeaveTimeout);
        var drain = runState.Stop is { } stop ? $" after its drain (stop {stop.StopId})" : "";
        await AppendAsync(EventKinds.SiloLeft, Describe("left") + drain, bound.Token);
    }

    private string Describe(string what)
    {
        var address = localSilo.SiloAddress;
        return $"silo {localSilo.Name} {what} at {address.Endpoint}, generation {address.Generation}, version {versions.Local.Text}";
    }

    // The history is for people: neither the start nor the stop waits on it when it cannot be written.
    private async Task AppendAsync(string kind, string detail, CancellationToken cancellationToken)
    {
        try
        {
            await events.AppendAsync(kind, sessionId: null, localSilo.SiloAddress.ToParsableString(), actor: null, detail, cancellationToken);
        }
        catch (Exception exception)
        {
            LogEventFailed(exception, kind);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the {Kind} event")]
    private partial void LogEventFailed(Exception exception, string kind);
}
