using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.Operations;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// The silos of the cluster: the membership table says which exist and in what status (it answers while no silo
/// does), and each silo that may be up says what it runs through its <see cref="ISiloControlGrain"/>.
/// </summary>
public sealed partial class SiloDirectory(
    MembershipTable membership,
    IClusterClient client,
    ClusterSettings cluster,
    TimeProvider time,
    ILogger<SiloDirectory> logger)
{
    /// <summary>
    /// How long a silo may take to report. A silo killed a moment ago is still Active in the membership table until
    /// the others declare it dead; a call to it gets no answer, and the page must not wait for one.
    /// </summary>
    public static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the stop request may take: the silo answers before it begins to stop.</summary>
    public static readonly TimeSpan StopRequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Dead silos are shown this long after their last heartbeat, so that a crash stays visible for a while.</summary>
    public static readonly TimeSpan DeadSilosShownFor = TimeSpan.FromHours(1);

    public async Task<IReadOnlyList<SiloResponse>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await membership.ReadSilosAsync(cluster.ClusterId, cancellationToken);
        var shownSince = time.GetUtcNow() - DeadSilosShownFor;
        var shown = rows
            .Where(row => row.Status != SiloStatuses.Dead || Max(row.StartedAt, row.IAmAliveAt) >= shownSince)
            .OrderBy(row => row.Status == SiloStatuses.Dead)
            .ThenBy(row => row.Status == SiloStatuses.Dead ? -row.StartedAt.UtcTicks : row.StartedAt.UtcTicks)
            .ToList();
        var reports = await ReportAsync(shown);
        return [.. shown.Zip(reports, (row, report) => new SiloResponse(
            row.Address,
            row.SiloName,
            row.Status,
            report?.Draining,
            report?.ActiveSessions,
            report?.RunningTurns,
            // What the silo registered, also for a dead one: release 0.1's own report gives the SDK's 1.0.0.
            row.Version,
            report is not null,
            row.StartedAt))];
    }

    /// <summary>What each silo says about itself (null for a Dead one, or one that did not answer within <see cref="ReportTimeout"/>), asked at once.</summary>
    public Task<SiloReport?[]> ReportAsync(IEnumerable<SiloRow> rows) =>
        Task.WhenAll(rows.Select(row => row.Status == SiloStatuses.Dead ? Task.FromResult<SiloReport?>(null) : TryGetReportAsync(row.Address)));

    /// <summary>The silo with this address as the membership table has it, in any status; null when it has none.</summary>
    public async Task<SiloRow?> FindAsync(string address, CancellationToken cancellationToken)
    {
        var rows = await membership.ReadSilosAsync(cluster.ClusterId, cancellationToken);
        return rows.FirstOrDefault(row => row.Address == address);
    }

    /// <summary>Asks the silo to drain or restart: it takes the request, or says why not (it is already stopping).</summary>
    public Task<SiloStopAnswer> RequestStopAsync(string address, SiloStopKind kind) =>
        client.GetGrain<ISiloControlGrain>(address).RequestStopAsync(kind).WaitAsync(StopRequestTimeout);

    private async Task<SiloReport?> TryGetReportAsync(string address)
    {
        try
        {
            return await client.GetGrain<ISiloControlGrain>(address).GetReportAsync().WaitAsync(ReportTimeout);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Gone, going, not yet joined, or no connection to the cluster at all: shown without a report.
            LogNoReport(address, exception.GetBaseException().Message);
            return null;
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Silo {Address} did not report: {Reason}")]
    private partial void LogNoReport(string address, string reason);
}
