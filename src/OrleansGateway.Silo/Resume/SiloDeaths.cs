using Orleans.Runtime;
using OrleansGateway.Storage;

namespace OrleansGateway.Resume;

/// <summary>
/// Crash detection's record for operators: each silo the cluster declared dead without leaving gets one
/// <see cref="EventKinds.SiloDeclaredDead"/> event for the whole cluster (<see cref="EventHistory.AppendDeclaredDeadAsync"/>
/// decides which sweeper writes it). A silo asks once per dead silo while the membership lists it, not on every sweep.
/// </summary>
internal sealed partial class SiloDeaths(EventHistory events, ILogger<SiloDeaths> logger)
{
    // Dead silos recorded, by this silo or another, or found to have left. Only the sweep loop uses it: one at a time.
    private readonly HashSet<string> _settled = [];

    public async Task RecordAsync(IReadOnlyCollection<ClusterMember> dead, string observer, CancellationToken cancellationToken)
    {
        // Orleans removes a defunct row after a while; so does this set.
        _settled.IntersectWith(dead.Select(member => member.SiloAddress.ToParsableString()));
        foreach (var member in dead)
        {
            var address = member.SiloAddress.ToParsableString();
            if (_settled.Contains(address))
            {
                continue;
            }

            try
            {
                if (await events.AppendDeclaredDeadAsync(address, member.Name, observer, cancellationToken))
                {
                    LogDeclaredDead(address, member.Name);
                }

                _settled.Add(address);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The history is for people: crash detection and the resumes go on, and the next sweep asks again.
                LogRecordFailed(exception, address);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} ({Name}) was declared dead without leaving; recorded for the cluster")]
    private partial void LogDeclaredDead(string silo, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the death of silo {Silo}; the next sweep tries again")]
    private partial void LogRecordFailed(Exception exception, string silo);
}
