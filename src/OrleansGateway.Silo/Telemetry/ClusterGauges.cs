using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansGateway.Hosting;
using OrleansGateway.Resume;
using OrleansGateway.Sessions;
using OrleansGateway.ServiceDefaults.Telemetry;
using OrleansGateway.Storage;

namespace OrleansGateway.Telemetry;

/// <summary>
/// The cluster's sessions by phase and its stale markers, as observable gauges published by one silo only: the counts
/// are the ledger's, the same whoever reads them, so a gauge per silo would multiply them in every sum and cost every
/// silo a count of the whole table. The publisher is the oldest Active silo of Orleans' membership (the lowest
/// generation), not the holder of a PostgreSQL advisory lock: the membership is what the silos already agree on, while
/// a lock would pin a pooled connection per silo and vanish unnoticed with it. While the membership changes two silos
/// may both (or neither) believe they are the oldest for a moment; the dashboard and the alerts take the max per phase.
/// </summary>
internal sealed partial class ClusterGauges : SiloBackgroundLoop
{
    public const string SessionsByPhase = "ogw.sessions.by_phase";
    public const string StaleMarkers = "ogw.sessions.stale";

    // A count of the ledger is cheap (the phase index) but not free; Prometheus scrapes every 15 s by default.
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private readonly IClusterMembershipService _membership;
    private readonly ILocalSiloDetails _localSilo;
    private readonly SessionQueries _queries;
    private readonly IOptions<SessionResumeOptions> _options;
    private readonly ILogger<ClusterGauges> _logger;
    private volatile Snapshot? _latest;

    public ClusterGauges(GatewayMetrics metrics, IClusterMembershipService membership, ILocalSiloDetails localSilo,
        SessionQueries queries, IOptions<SessionResumeOptions> options, ILogger<ClusterGauges> logger)
    {
        (_membership, _localSilo, _queries, _options, _logger) = (membership, localSilo, queries, options, logger);
        metrics.Meter.CreateObservableGauge(SessionsByPhase, ObservePhases, "{session}", "Sessions in each phase of the ledger (one silo of the cluster reports it)");
        metrics.Meter.CreateObservableGauge(StaleMarkers, ObserveStale, "{session}", "Resume_pending sessions whose marker is older than the freshness window: never resumed automatically (one silo of the cluster reports it)");
    }

    /// <summary>Whether this silo is the one that reports the cluster's gauges now.</summary>
    public bool IsPublisher
    {
        get
        {
            var oldest = _membership.CurrentSnapshot.Members.Values
                .Where(member => member.Status == SiloStatus.Active)
                .MinBy(member => (member.SiloAddress.Generation, member.SiloAddress.ToParsableString()));
            return oldest is not null && oldest.SiloAddress.Equals(_localSilo.SiloAddress);
        }
    }

    /// <summary>What the gauges report now: nothing on every silo but the publisher, nothing before its first count.</summary>
    public IEnumerable<Measurement<long>> ObservePhases() =>
        CurrentSnapshot() is { } snapshot
            ? snapshot.Counts.Select(count => new Measurement<long>(count.Value, new KeyValuePair<string, object?>(GatewayTelemetry.Tags.Phase, count.Key.ToName())))
            : [];

    public IEnumerable<Measurement<long>> ObserveStale() =>
        CurrentSnapshot() is { } snapshot ? [new Measurement<long>(snapshot.Stale)] : [];

    /// <summary>Counts the ledger now when this silo publishes; for the loop, and for tests that cannot wait for it.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (!IsPublisher)
        {
            _latest = null;
            return;
        }

        var counts = await _queries.CountByPhaseAsync(cancellationToken);
        var stale = await _queries.CountStaleAsync(_options.Value.FreshnessWindow, cancellationToken);
        _latest = new Snapshot(counts, stale, Environment.TickCount64);
    }

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(cancellationToken);
                await Task.Delay(RefreshInterval, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // A gauge is not worth a silo: the next period tries again, and a stale count is dropped meanwhile.
                LogRefreshFailed(exception);
                await Task.Delay(RefreshInterval, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    // A count more than three periods old (the database unreachable) is dropped rather than reported as current; and a
    // silo that stopped being the oldest stops reporting at once, not at its next count.
    private Snapshot? CurrentSnapshot() =>
        _latest is { } snapshot && Environment.TickCount64 - snapshot.At < 3 * RefreshInterval.TotalMilliseconds && IsPublisher ? snapshot : null;

    private sealed record Snapshot(IReadOnlyDictionary<SessionPhase, long> Counts, long Stale, long At);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count the ledger's sessions for the cluster gauges; retrying")]
    private partial void LogRefreshFailed(Exception exception);
}
