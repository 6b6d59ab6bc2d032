using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansGateway.Operations;
using OrleansGateway.Resume;
using OrleansGateway.Storage;

namespace OrleansGateway.Hosting;

/// <summary>A stop of this silo in progress: its id (written to the markers it creates) and the reason it gives.</summary>
public sealed record SiloStop(Guid StopId, string Reason)
{
    public DeferMark Mark => new(Reason, StopId);
}

/// <summary>
/// Whether this silo takes work: Active in the cluster and not draining. Read by <c>/readyz</c>, by sessions
/// before they start a turn, and by the resume sweeper.
/// </summary>
public sealed class SiloRunState(IOptions<SessionResumeOptions> options)
{
    private volatile bool _active;
    private SiloStop? _stop;
    private StopIntent? _requestedIntent;

    public bool IsActive => _active;

    public bool IsDraining => Stop is not null;

    /// <summary>The stop under way, or null while the silo runs normally.</summary>
    public SiloStop? Stop => Volatile.Read(ref _stop);

    public bool IsReady => _active && Stop is null;

    /// <summary>What the next stop will be: an operator's request, else the configured intent.</summary>
    public StopIntent StopIntent => _requestedIntent ?? options.Value.StopIntent;

    /// <summary>How the process ends: a requested restart tells the supervisor to start it again.</summary>
    public int ExitCode => _requestedIntent == StopIntent.Restart ? SiloExitCodes.RestartRequested : SiloExitCodes.Stopped;

    /// <summary>An operator asks for a stop: a restart premarks with <c>restart_timeout</c>, a drain with <c>shutdown_timeout</c>.</summary>
    public void RequestStop(SiloStopKind kind) => _requestedIntent = kind == SiloStopKind.Restart ? StopIntent.Restart : StopIntent.Shutdown;

    /// <summary>From now on no new turn starts here; returns the stop, created once.</summary>
    public SiloStop BeginDraining()
    {
        var reason = StopIntent == StopIntent.Restart ? ResumeReasons.RestartTimeout : ResumeReasons.ShutdownTimeout;
        var stop = new SiloStop(Guid.NewGuid(), reason);
        return Interlocked.CompareExchange(ref _stop, stop, null) ?? stop;
    }

    /// <summary>
    /// Follows the silo lifecycle at the <see cref="ServiceLifecycleStage.Active"/> stage: ready once every
    /// lower stage has started (membership joined, storage up), not ready from the first stop step on.
    /// </summary>
    internal sealed class Participant(SiloRunState runState) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(SiloRunState), ServiceLifecycleStage.Active,
                _ =>
                {
                    runState._active = true;
                    return Task.CompletedTask;
                },
                _ =>
                {
                    runState._active = false;
                    return Task.CompletedTask;
                });
    }
}
