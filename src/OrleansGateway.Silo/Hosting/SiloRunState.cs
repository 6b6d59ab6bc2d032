using Orleans.Runtime;

namespace OrleansGateway.Hosting;

/// <summary>Whether this silo takes work: Active in the cluster and not draining. Read by <c>/readyz</c>.</summary>
public sealed class SiloRunState
{
    private volatile bool _active;
    private volatile bool _draining;

    public bool IsActive => _active;

    public bool IsDraining => _draining;

    public bool IsReady => _active && !_draining;

    /// <summary>From now on no new turn starts here; the shutdown is under way.</summary>
    public void BeginDraining() => _draining = true;

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
