using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using OrleansGateway.Resume;
using OrleansGateway.Storage;

namespace OrleansGateway.Upgrade;

/// <summary>
/// The build versions of this cluster's Active silos and which of them drain, as <c>gateway_silos</c> says, refreshed
/// every couple of seconds and on membership changes. While several versions serve (a rolling upgrade), the resume
/// sweepers of older silos leave interrupted sessions to the newest, and placement puts new activations there: a
/// session interrupted by the stop of an old silo resumes on an upgraded one and is not interrupted again.
/// </summary>
public sealed partial class SiloVersions(
    SiloRegistry registry,
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IOptions<ClusterOptions> cluster,
    IOptions<BuildVersionOptions> version,
    IOptions<SessionResumeOptions> resume,
    ILogger<SiloVersions> logger)
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    private volatile IReadOnlyDictionary<string, ActiveSilo> _active = new Dictionary<string, ActiveSilo>();

    /// <summary>This silo's version: <c>Gateway:Version</c>, else the build's.</summary>
    public BuildVersion Local { get; } = version.Value.Effective;

    /// <summary>
    /// True unless an Active silo of a newer version that does not drain is there to take this silo's sweeps (or the
    /// preference is off, <see cref="SessionResumeOptions.PreferNewestVersion"/>).
    /// </summary>
    public bool LocalIsNewest => !resume.Value.PreferNewestVersion
        || !_active.Values.Any(silo => !silo.Draining && Rank(silo.Version) is { } other && other.CompareTo(Local) > 0);

    /// <summary>
    /// Of <paramref name="candidates"/>, those to place a new activation on: not draining, and of the newest version
    /// among them (of every version when the preference is off). Empty when every candidate drains.
    /// </summary>
    public IReadOnlyList<SiloAddress> Preferred(IReadOnlyList<SiloAddress> candidates)
    {
        var active = _active;
        var open = candidates.Where(silo => !(active.TryGetValue(silo.ToParsableString(), out var known) && known.Draining)).ToList();
        if (!resume.Value.PreferNewestVersion || open.Count < 2)
        {
            return open;
        }

        BuildVersion? VersionOf(SiloAddress silo) => silo.Equals(localSilo.SiloAddress)
            ? Local
            : active.TryGetValue(silo.ToParsableString(), out var known) ? Rank(known.Version) : null;
        var newest = open.Select(VersionOf).Max();
        return newest is null ? open : open.Where(silo => VersionOf(silo)?.CompareTo(newest) == 0).ToList();
    }

    /// <summary>Reads the registry now: at start, every couple of seconds, and before each sweep decides whether to lease.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var silos = await registry.ReadActiveAsync(cluster.Value.ClusterId, cancellationToken);
        _active = silos.ToDictionary(silo => silo.Address);
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var options = cluster.Value;
        var registration = new SiloRegistration(localSilo.SiloAddress.ToParsableString(), options.ClusterId, options.ServiceId,
            localSilo.Name, Local.Text, SchemaMigrator.LatestVersion);
        await registry.RegisterAsync(registration, cancellationToken);
        await RefreshAsync(cancellationToken);
        LogRegistered(registration.Version, registration.SchemaMax, registration.ClusterId);
    }

    // Unregistered silos (release 0.1) and unreadable versions rank below every version.
    private static BuildVersion? Rank(string? version) => BuildVersion.TryParse(version, out var parsed) ? parsed : null;

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        using var changed = new SemaphoreSlim(0, 1);
        var watch = Task.Run(async () =>
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                if (changed.CurrentCount == 0)
                {
                    changed.Release();
                }
            }
        }, cancellationToken);

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(cancellationToken);
                await changed.WaitAsync(RefreshInterval, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                // The last view stays: a stale one only makes the preference late, never unsafe.
                LogRefreshFailed(exception);
                await Task.Delay(RefreshInterval, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the versions of the cluster's silos; keeping the last view")]
    private partial void LogRefreshFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered as version {Version} (schema {SchemaMax}) in cluster {ClusterId}")]
    private partial void LogRegistered(string version, int schemaMax, string clusterId);

    /// <summary>
    /// Registers this silo's version at <see cref="ServiceLifecycleStage.ApplicationServices"/>, before it joins as
    /// Active, so that the others see its version from its first moment in the cluster; then follows the registry.
    /// </summary>
    internal sealed class Participant(SiloVersions versions) : ILifecycleParticipant<ISiloLifecycle>
    {
        private readonly CancellationTokenSource _stopping = new();
        private Task _loop = Task.CompletedTask;

        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(SiloVersions), ServiceLifecycleStage.ApplicationServices, StartAsync, StopAsync);

        private async Task StartAsync(CancellationToken cancellationToken)
        {
            await versions.RegisterAsync(cancellationToken);
            _loop = Task.Run(() => versions.RefreshLoopAsync(_stopping.Token), CancellationToken.None);
        }

        private async Task StopAsync(CancellationToken cancellationToken)
        {
            await _stopping.CancelAsync();
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
