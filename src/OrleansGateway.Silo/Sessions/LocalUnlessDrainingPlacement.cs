using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.Hosting;

namespace OrleansGateway.Sessions;

/// <summary>
/// Places a session on the silo whose call activates it (the silo that took its message, the silo whose sweeper
/// claimed its resume), except while that silo drains: then on another one. A session activated on a draining silo
/// could only mark itself resume_pending, and every sweeper's claim would be refused there until the drain ends.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class LocalUnlessDrainingPlacement : PlacementStrategy
{
    internal static readonly LocalUnlessDrainingPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class)]
public sealed class LocalUnlessDrainingPlacementAttribute() : PlacementAttribute(LocalUnlessDrainingPlacement.Instance);

internal sealed class LocalUnlessDrainingPlacementDirector(SiloRunState runState) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var localWanted = context.LocalSiloStatus == SiloStatus.Active && !runState.IsDraining && compatible.Contains(context.LocalSilo);
        if (localWanted)
        {
            return Task.FromResult(context.LocalSilo);
        }

        var others = compatible.Where(silo => !silo.Equals(context.LocalSilo)).ToArray();
        return Task.FromResult(others.Length > 0 ? others[Random.Shared.Next(others.Length)] : context.LocalSilo);
    }
}
