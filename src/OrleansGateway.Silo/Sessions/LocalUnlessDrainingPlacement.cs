using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.Resume;
using OrleansGateway.Upgrade;

namespace OrleansGateway.Sessions;

/// <summary>
/// Places a session on the silo whose call activates it (the silo that took its message, the silo whose sweeper
/// claimed its resume), except while that silo drains: then on another one. A session activated on a draining silo
/// could only mark itself resume_pending, and every sweeper's claim would be refused there until the drain ends.
/// While silos of several versions serve (a rolling upgrade), only the newest are wanted: a session placed on an old
/// silo would be interrupted again when that silo's turn to stop comes. A sweeper's resume claim is spread over the
/// wanted silos instead (<see cref="ResumeSpread"/>), so that one survivor does not take every session of a stopped silo.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class LocalUnlessDrainingPlacement : PlacementStrategy
{
    internal static readonly LocalUnlessDrainingPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class)]
public sealed class LocalUnlessDrainingPlacementAttribute() : PlacementAttribute(LocalUnlessDrainingPlacement.Instance);

internal sealed class LocalUnlessDrainingPlacementDirector(SiloRunState runState, SiloVersions versions, ResumeSpread spread) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var local = context.LocalSilo;
        var compatible = context.GetCompatibleSilos(target);
        var candidates = context.LocalSiloStatus == SiloStatus.Active && !runState.IsDraining
            ? compatible
            : compatible.Where(silo => !silo.Equals(local)).ToArray();
        var wanted = versions.Preferred(candidates);
        if (ResumeSpread.Requested(target) && spread.Next(wanted) is { } next)
        {
            return Task.FromResult(next);
        }

        if (wanted.Contains(local))
        {
            return Task.FromResult(local);
        }

        var others = wanted.Count > 0 ? wanted : candidates;
        return Task.FromResult(others.Count > 0 ? others[Random.Shared.Next(others.Count)] : local);
    }
}
