using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansGateway.Storage;
using OrleansGateway.Telemetry;

namespace OrleansGateway.Resume;

/// <summary>
/// The stop of a silo, premark first and drain second. Registered at <see cref="ServiceLifecycleStage.Active"/> + 1:
/// its stop runs before Orleans stops accepting work and before any grain is deactivated, while storage and
/// grain calls still work. Every step after the premark may be cut short by a SIGKILL without losing a session.
/// </summary>
internal sealed partial class PremarkDrainParticipant(
    SiloRunState runState,
    RunningTurns runningTurns,
    SessionLedger ledger,
    EventHistory events,
    ILocalSiloDetails localSilo,
    IOptions<SessionResumeOptions> options,
    GatewayMetrics metrics,
    ILogger<PremarkDrainParticipant> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public const int Stage = ServiceLifecycleStage.Active + 1;

    // The re-mark after a drain timeout must run even when the host's own timeout has fired; this bounds it instead.
    private static readonly TimeSpan RemarkTimeout = TimeSpan.FromSeconds(5);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PremarkDrainParticipant), Stage, _ => Task.CompletedTask, StopAsync);

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        var owner = localSilo.SiloAddress.ToParsableString();
        var resume = options.Value;
        var clock = Stopwatch.StartNew();

        // 1. No new turn starts here, /readyz says 503, sessions activated from now on mark themselves.
        var stop = runState.BeginDraining();
        using var drainSpan = GatewaySpans.StartDrain(stop.StopId);

        // 2. The premark: one statement, before anything slow. A kill from here on loses nothing. When it fails, the
        //    drain still runs: turns that finish need no marker, and the re-mark of step 4 tries again for the rest.
        var premarkSpan = GatewaySpans.StartPremark(stop.StopId, stop.Reason);
        var premarkResult = await PremarkAsync(owner, stop, cancellationToken);
        premarkSpan?.SetTag(GatewaySpans.Tags.Count, premarkResult).Dispose();
        if (premarkResult is { } premarked)
        {
            metrics.RecordPremark(premarked, stop.Reason, clock.Elapsed);
            LogPremarked(premarked, stop.StopId, stop.Reason, runningTurns.Count, clock.ElapsedMilliseconds);
            await AppendEventAsync(EventKinds.Premark, owner, $"stop {stop.StopId}: {premarked} sessions marked {stop.Reason} in {clock.ElapsedMilliseconds} ms");
        }

        // 3. Drain. Turns that complete clear their own markers of this stop (a completed turn ends its interruption);
        //    failed turns and sessions with queued work left keep theirs. The host's shutdown timeout ends the wait early
        //    (the budget check warned at start-up): then straight on to step 4, which must not be skipped.
        if (await WaitForTurnsAsync(resume.DrainTimeout, cancellationToken))
        {
            LogDrained(stop.StopId, clock.ElapsedMilliseconds);
            metrics.RecordDrain(finished: true, interrupted: 0, clock.Elapsed);
            drainSpan?.SetTag(GatewaySpans.Tags.Outcome, GatewayMetrics.DrainFinished);
            await AppendEventAsync(EventKinds.DrainFinished, owner, $"stop {stop.StopId}: every running turn ended after {clock.ElapsedMilliseconds} ms");
            return;
        }

        // 4. Timed out: mark what runs now (not the snapshot), interrupt it, and give the in-flight steps a
        //    moment to checkpoint before Orleans deactivates the grains. The re-mark is one short statement with a
        //    bound of its own, so that a host timeout that has already fired does not cancel it.
        using var remarkBound = new CancellationTokenSource(RemarkTimeout);
        var remarked = await PremarkAsync(owner, stop, remarkBound.Token) ?? 0;
        var interrupted = runningTurns.InterruptAll();
        var settled = await WaitForTurnsAsync(resume.InterruptGrace, cancellationToken);
        LogDrainTimedOut(stop.StopId, resume.DrainTimeout, interrupted, remarked, settled ? 0 : runningTurns.Count, clock.ElapsedMilliseconds);
        metrics.RecordRemark(remarked, stop.Reason);
        metrics.RecordDrain(finished: false, interrupted, clock.Elapsed);
        drainSpan?.SetTag(GatewaySpans.Tags.Outcome, GatewayMetrics.DrainTimedOut);
        await AppendEventAsync(EventKinds.DrainTimedOut, owner,
            $"stop {stop.StopId}: after {clock.Elapsed.TotalSeconds:0.#} s, {interrupted} turns interrupted, {remarked} sessions re-marked");
    }

    /// <summary>The premark (or re-mark) statement; null when it failed, which is logged as critical.</summary>
    private async Task<int?> PremarkAsync(string owner, SiloStop stop, CancellationToken cancellationToken)
    {
        try
        {
            return await ledger.PremarkAsync(owner, stop.StopId, stop.Reason, cancellationToken);
        }
        catch (Exception exception)
        {
            LogPremarkFailed(exception, stop.StopId);
            return null;
        }
    }

    /// <summary>True when no turn runs any more within <paramref name="timeout"/>; false on timeout or when the host gives up waiting.</summary>
    private async Task<bool> WaitForTurnsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await runningTurns.WaitUntilNoneAsync(timeout, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogHostTimeout(runningTurns.Count);
            return false;
        }
    }

    // The history is for people; the stop must go on when it cannot be written.
    private async Task AppendEventAsync(string kind, string silo, string detail)
    {
        try
        {
            await events.AppendAsync(kind, sessionId: null, silo, actor: null, detail);
        }
        catch (Exception exception)
        {
            LogEventFailed(exception, kind);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stop {StopId}: premarked {Premarked} sessions resume_pending ({Reason}) with {Running} turns running, in {ElapsedMs} ms")]
    private partial void LogPremarked(int premarked, Guid stopId, string reason, int running, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stop {StopId}: drain finished, every running turn ended, after {ElapsedMs} ms")]
    private partial void LogDrained(Guid stopId, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stop {StopId}: drain timed out after {DrainTimeout}; interrupted {Interrupted} turns, re-marked {Remarked} sessions, {Unsettled} turns did not checkpoint in the grace, after {ElapsedMs} ms")]
    private partial void LogDrainTimedOut(Guid stopId, TimeSpan drainTimeout, int interrupted, int remarked, int unsettled, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the {Kind} event")]
    private partial void LogEventFailed(Exception exception, string kind);

    [LoggerMessage(Level = LogLevel.Error, Message = "The host's shutdown timeout ended the drain with {Running} turns running; interrupting them now")]
    private partial void LogHostTimeout(int running);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Stop {StopId}: a premark failed; sessions left running are recovered by crash detection once this silo is declared dead")]
    private partial void LogPremarkFailed(Exception exception, Guid stopId);
}
