using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// The sessions' counts by phase (and of stale markers) over the last hour, sampled by the dashboard itself, so that
/// the page's chart of counts over time shows what happened before it was opened: the 3 a.m. question is usually
/// "what did the restart an hour ago do", not "what happens from now on". Kept in memory: a restarted dashboard
/// starts a new history.
/// </summary>
public sealed partial class PhaseCountHistory(SessionQueries ledger, ClusterSettings cluster, TimeProvider time, ILogger<PhaseCountHistory> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Kept = TimeSpan.FromHours(1);

    private readonly Queue<CountSample> _samples = new();
    private readonly Lock _lock = new();

    public IReadOnlyList<CountSample> Samples
    {
        get
        {
            lock (_lock)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>Counts by phase name, with <c>stale</c>, as the sessions listing sends them.</summary>
    public static Dictionary<string, long> ByName(IReadOnlyDictionary<SessionPhase, long> counts, long stale)
    {
        var byName = counts.ToDictionary(pair => pair.Key.ToName(), pair => pair.Value);
        byName["stale"] = stale;
        return byName;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                await SampleAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            var counts = ledger.CountByPhaseAsync(cancellationToken);
            var stale = ledger.CountStaleAsync(cluster.FreshnessWindow, cancellationToken);
            Add(new CountSample(time.GetUtcNow(), ByName(await counts, await stale)));
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // A gap in the chart, not a dead dashboard: the next tick tries again.
            LogSampleFailed(exception.GetBaseException().Message);
        }
    }

    private void Add(CountSample sample)
    {
        lock (_lock)
        {
            _samples.Enqueue(sample);
            while (_samples.Peek().At < sample.At - Kept)
            {
                _samples.Dequeue();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not sample the session counts: {Reason}")]
    private partial void LogSampleFailed(string reason);
}
