using System.Diagnostics.Metrics;
using OrleansGateway.Resume;
using OrleansGateway.ServiceDefaults.Telemetry;
using OrleansGateway.Storage;
using Tags = OrleansGateway.ServiceDefaults.Telemetry.GatewayTelemetry.Tags;

namespace OrleansGateway.Telemetry;

/// <summary>
/// The silo's instruments, recorded at the points the log already names (premark, drain, claim, quarantine, a turn's
/// accept and end). Names follow OpenTelemetry's conventions; Prometheus sees <c>ogw.sessions.premarked</c> as
/// <c>ogw_sessions_premarked_total</c> and a histogram in seconds as <c>..._seconds_bucket/_sum/_count</c>.
/// </summary>
public sealed class GatewayMetrics
{
    public const string Premarked = "ogw.sessions.premarked";
    public const string PremarkDuration = "ogw.premark.duration";
    public const string DrainDuration = "ogw.drain.duration";
    public const string TurnsInterrupted = "ogw.turns.interrupted";
    public const string ResumeLag = "ogw.resume.lag";
    public const string Claims = "ogw.resume.claims";
    public const string Quarantined = "ogw.sessions.quarantined";
    public const string TurnsRunning = "ogw.turns.running";
    public const string TurnsAccepted = "ogw.turns.accepted";
    public const string TurnsCompleted = "ogw.turns.completed";
    public const string TurnsFailed = "ogw.turns.failed";

    public const string DrainFinished = "finished";
    public const string DrainTimedOut = "timed_out";
    public const string ClaimWon = "won";
    public const string ClaimLost = "lost";

    // Resume lag runs from a second (a premark claimed by a live silo) to the freshness window (an hour by default).
    private static readonly double[] LagBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600];

    // A premark is one statement; a drain lasts up to DrainTimeout plus InterruptGrace (20 s by default).
    private static readonly double[] PremarkBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
    private static readonly double[] DrainBuckets = [0.1, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120];

    private readonly Counter<long> _premarked;
    private readonly Histogram<double> _premarkDuration;
    private readonly Histogram<double> _drainDuration;
    private readonly Counter<long> _interrupted;
    private readonly Histogram<double> _resumeLag;
    private readonly Counter<long> _claims;
    private readonly Counter<long> _quarantined;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;

    public GatewayMetrics(IMeterFactory meters, RunningTurns runningTurns)
    {
        Meter = meters.Create(GatewayTelemetry.Name);
        _premarked = Meter.CreateCounter<long>(Premarked, "{session}", "Sessions marked resume_pending by a stopping silo's premark or re-mark, by reason");
        _premarkDuration = Meter.CreateHistogram(PremarkDuration, "s", "How long a stopping silo's premark statement took",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PremarkBuckets });
        _drainDuration = Meter.CreateHistogram(DrainDuration, "s", "How long a stopping silo's drain took, premark to the last turn ended or interrupted, by outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DrainBuckets });
        _interrupted = Meter.CreateCounter<long>(TurnsInterrupted, "{turn}", "Turns a drain timeout interrupted");
        _resumeLag = Meter.CreateHistogram(ResumeLag, "s", "How long a resumed session waited, marker to claim, by the database's clock (the resumed event's waited), by reason",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        _claims = Meter.CreateCounter<long>(Claims, "{claim}", "Resume claims by outcome: won (this silo took the session) or lost (another claim or a change came first)");
        _quarantined = Meter.CreateCounter<long>(Quarantined, "{session}", "Sessions this silo's sweep quarantined after too many resumes without progress");
        _accepted = Meter.CreateCounter<long>(TurnsAccepted, "{turn}", "Messages stored and acknowledged as turns");
        _completed = Meter.CreateCounter<long>(TurnsCompleted, "{turn}", "Turns that ended completed");
        _failed = Meter.CreateCounter<long>(TurnsFailed, "{turn}", "Turns that ended failed");
        Meter.CreateObservableGauge(TurnsRunning, () => runningTurns.Count, "{turn}", "Turns whose agent runs on this silo now");

        // Counters start at 0 on every silo, so that rate() and increase() see the first event and the alert rules and
        // the dashboard find every series before anything happened.
        foreach (var reason in ResumeReasons.Planned)
        {
            _premarked.Add(0, new KeyValuePair<string, object?>(Tags.Reason, reason));
        }

        _claims.Add(0, new KeyValuePair<string, object?>(Tags.Outcome, ClaimWon));
        _claims.Add(0, new KeyValuePair<string, object?>(Tags.Outcome, ClaimLost));
        _interrupted.Add(0);
        _quarantined.Add(0);
        _accepted.Add(0);
        _completed.Add(0);
        _failed.Add(0);
    }

    /// <summary>This silo's meter, for the per-cluster gauges and the tests' listeners.</summary>
    public Meter Meter { get; }

    public void RecordPremark(int sessions, string reason, TimeSpan took)
    {
        _premarked.Add(sessions, new KeyValuePair<string, object?>(Tags.Reason, reason));
        _premarkDuration.Record(took.TotalSeconds);
    }

    public void RecordRemark(int sessions, string reason) => _premarked.Add(sessions, new KeyValuePair<string, object?>(Tags.Reason, reason));

    public void RecordDrain(bool finished, int interrupted, TimeSpan took)
    {
        _drainDuration.Record(took.TotalSeconds, new KeyValuePair<string, object?>(Tags.Outcome, finished ? DrainFinished : DrainTimedOut));
        _interrupted.Add(interrupted);
    }

    public void RecordClaim(bool won, string? reason, TimeSpan? waited)
    {
        _claims.Add(1, new KeyValuePair<string, object?>(Tags.Outcome, won ? ClaimWon : ClaimLost));
        if (waited is { } lag)
        {
            _resumeLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>(Tags.Reason, reason ?? "unknown"));
        }
    }

    public void RecordQuarantine() => _quarantined.Add(1);

    public void RecordAccepted() => _accepted.Add(1);

    public void RecordFinished(bool completed) => (completed ? _completed : _failed).Add(1);
}
