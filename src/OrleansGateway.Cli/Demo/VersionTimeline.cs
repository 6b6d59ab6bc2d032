using System.Diagnostics;
using OrleansGateway.Operations;
using OrleansGateway.Storage;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// Which versions serve, step by step, as the membership table and the silos' registrations say (a silo of 0.1
/// registers nowhere and shows as 0.1): one line per step of a rolling upgrade.
/// </summary>
public sealed class VersionTimeline(MembershipTable membership, string clusterId, Stopwatch clock)
{
    private readonly List<(TimeSpan At, string Versions)> _steps = [];

    /// <summary>Reads the Active silos now and records them; returns what it recorded, e.g. "0.1 x2, 0.2.0 x1".</summary>
    public async Task<string> RecordAsync(CancellationToken cancellationToken)
    {
        var active = (await membership.ReadSilosAsync(clusterId, cancellationToken)).Where(silo => silo.Status == SiloStatuses.Active);
        // In order of start: the old release first. The commit after '+' is the same for every silo of a build.
        var versions = string.Join(", ", active.GroupBy(silo => silo.Version.Split('+')[0]).Select(group => $"{group.Key} x{group.Count()}"));
        var text = versions.Length == 0 ? "no Active silo" : versions;
        lock (_steps)
        {
            _steps.Add((clock.Elapsed, text));
        }

        return text;
    }

    /// <summary>Every step recorded, one a line: <c>t+12s  0.1 x3</c>.</summary>
    public string Lines()
    {
        lock (_steps)
        {
            return string.Join("\n", _steps.Select(step => $"{$"t+{step.At.TotalSeconds:0}s",-6}  {step.Versions}"));
        }
    }
}
