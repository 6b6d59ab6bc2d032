using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace OrleansGateway.Resume;

/// <summary>
/// Spreads the activations of resume claims over the silos that take work, instead of placing them all on the sweeper
/// that leased them: a sweeper's claims go round the wanted silos in turn (see <c>LocalUnlessDrainingPlacement</c>), so
/// the sessions of a stopped silo resume on every survivor. Only where an activation goes changes: the claim, its
/// compare-and-set and its fencing run in the grain wherever it is placed.
/// </summary>
public sealed class ResumeSpread
{
    /// <summary>The request context entry of a sweeper's resume call that asks for a spread placement.</summary>
    public const string ContextKey = "ogw.resume-spread";

    // Where this silo's round starts: random, so that the sweepers of several silos do not all begin on the same silo.
    private long _next = Random.Shared.Next();

    /// <summary>Marks the calls made from here on in this async flow as resume claims to spread.</summary>
    public static void MarkCalls() => RequestContext.Set(ContextKey, true);

    /// <summary>Whether the call that activates <paramref name="target"/> is a resume claim to spread.</summary>
    public static bool Requested(PlacementTarget target) => target.RequestContextData?.ContainsKey(ContextKey) == true;

    /// <summary>The next of <paramref name="silos"/> in this silo's round; null when there is none.</summary>
    public SiloAddress? Next(IReadOnlyList<SiloAddress> silos) => silos.Count == 0 ? null : Pick(silos, Interlocked.Increment(ref _next));

    /// <summary>The <paramref name="turn"/>th of <paramref name="silos"/> in address order, so that consecutive turns visit each.</summary>
    internal static SiloAddress Pick(IReadOnlyList<SiloAddress> silos, long turn)
    {
        var ordered = silos.OrderBy(silo => silo.ToParsableString(), StringComparer.Ordinal).ToList();
        return ordered[(int)((ulong)turn % (ulong)ordered.Count)];
    }
}
