using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansGateway.Operations;
using OrleansGateway.Storage;

namespace OrleansGateway.Resume;

/// <summary>A stop of this silo in progress: its id (written to the markers it creates) and the reason it gives.</summary>
public sealed record SiloStop(Guid StopId, string Reason)
{
    public DeferMark Mark => new(Reason, StopId);
}

/// <summary>
/// Whether this silo takes work: Active in the cluster and not draining. Read by <c>/readyz</c>, by sessions
/// before they start a turn, and by the resume sweeper. It is also the one place that decides how this silo stops:
/// an operator's stop request is taken once, and only while no stop is under way (<see cref="TryRequestStop"/>).
/// </summary>
public sealed class SiloRunState
{
    private readonly IOptions<SessionResumeOptions> _options;

    // Guards the decision of how this silo stops: the operator's request, the host's stop and the drain's begin.
    private readonly Lock _gate = new();
    private volatile bool _active;
    private SiloStop? _stop;
    private StopIntent? _requestedIntent;
    private bool _hostStopping;

    public SiloRunState(IOptions<SessionResumeOptions> options, IHostApplicationLifetime lifetime)
    {
        _options = options;
        // SIGTERM (or any other stop of the host) is known from its first moment, before the drain begins, so that an
        // operator's request arriving in between cannot change how a stop already decided ends.
        lifetime.ApplicationStopping.Register(() =>
        {
            lock (_gate)
            {
                _hostStopping = true;
            }
        });
    }

    public bool IsActive => _active;

    public bool IsDraining => Stop is not null;

    /// <summary>The stop under way, or null while the silo runs normally.</summary>
    public SiloStop? Stop => Volatile.Read(ref _stop);

    public bool IsReady => _active && Stop is null;

    /// <summary>What the next stop will be: an operator's request, else the configured intent.</summary>
    public StopIntent StopIntent
    {
        get
        {
            lock (_gate)
            {
                return _requestedIntent ?? _options.Value.StopIntent;
            }
        }
    }

    /// <summary>How the process ends: a requested restart tells the supervisor to start it again.</summary>
    public int ExitCode
    {
        get
        {
            lock (_gate)
            {
                return _requestedIntent == StopIntent.Restart ? SiloExitCodes.RestartRequested : SiloExitCodes.Stopped;
            }
        }
    }

    /// <summary>
    /// An operator asks for a stop: a restart premarks with <c>restart_timeout</c>, a drain with <c>shutdown_timeout</c>.
    /// Taken only by a silo that is not stopping yet: once a request was taken, the host was told to stop (SIGTERM) or
    /// the drain began, how this silo ends is decided, and <paramref name="refusal"/> says why.
    /// </summary>
    public bool TryRequestStop(SiloStopKind kind, [NotNullWhen(false)] out string? refusal)
    {
        lock (_gate)
        {
            refusal = _requestedIntent is { } requested
                    ? $"an operator already asked it to {(requested == StopIntent.Restart ? "restart" : "drain")}"
                : _stop is { } stop ? $"it is draining (stop {stop.StopId}, sessions marked {stop.Reason})"
                : _hostStopping ? "it was told to stop (SIGTERM or its host) and is about to drain"
                : null;
            if (refusal is null)
            {
                _requestedIntent = kind == SiloStopKind.Restart ? StopIntent.Restart : StopIntent.Shutdown;
            }

            return refusal is null;
        }
    }

    /// <summary>From now on no new turn starts here; returns the stop, created once.</summary>
    public SiloStop BeginDraining()
    {
        lock (_gate)
        {
            if (_stop is null)
            {
                var reason = (_requestedIntent ?? _options.Value.StopIntent) == StopIntent.Restart ? ResumeReasons.RestartTimeout : ResumeReasons.ShutdownTimeout;
                Volatile.Write(ref _stop, new SiloStop(Guid.NewGuid(), reason));
            }

            return _stop!;
        }
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
