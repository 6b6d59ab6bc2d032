using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansGateway.Hosting;
using OrleansGateway.Storage;

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
    ILogger<PremarkDrainParticipant> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public const int Stage = ServiceLifecycleStage.Active + 1;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PremarkDrainParticipant), Stage, _ => Task.CompletedTask, StopAsync);

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        var owner = localSilo.SiloAddress.ToParsableString();
        var resume = options.Value;
        var clock = Stopwatch.StartNew();

        // 1. No new turn starts here, /readyz says 503, sessions activated from now on mark themselves.
        var stop = runState.BeginDraining();

        // 2. The premark: one statement, before anything slow. A kill from here on loses nothing.
        int premarked;
        try
        {
            premarked = await ledger.PremarkAsync(owner, stop.StopId, stop.Reason, cancellationToken);
        }
        catch (Exception exception)
        {
            // Orleans logs and goes on with the stop: say loudly that crash detection must find these sessions.
            LogPremarkFailed(exception, stop.StopId);
            return;
        }

        LogPremarked(premarked, stop.StopId, stop.Reason, runningTurns.Count, clock.ElapsedMilliseconds);
        await AppendEventAsync(EventKinds.Premark, owner, $"stop {stop.StopId}: {premarked} sessions marked {stop.Reason} in {clock.ElapsedMilliseconds} ms");

        // 3. Drain. Turns that complete clear their own markers of this stop (a completed turn ends its interruption);
        //    failed turns and sessions with queued work left keep theirs.
        if (await runningTurns.WaitUntilNoneAsync(resume.DrainTimeout, cancellationToken))
        {
            LogDrained(stop.StopId, clock.ElapsedMilliseconds);
            await AppendEventAsync(EventKinds.DrainFinished, owner, $"stop {stop.StopId}: every running turn ended after {clock.ElapsedMilliseconds} ms");
            return;
        }

        // 4. Timed out: mark what runs now (not the snapshot), interrupt it, and give the in-flight steps a
        //    moment to checkpoint before Orleans deactivates the grains.
        var remarked = await ledger.PremarkAsync(owner, stop.StopId, stop.Reason, cancellationToken);
        var interrupted = runningTurns.InterruptAll();
        var settled = await runningTurns.WaitUntilNoneAsync(resume.InterruptGrace, cancellationToken);
        LogDrainTimedOut(stop.StopId, resume.DrainTimeout, interrupted, remarked, settled ? 0 : runningTurns.Count, clock.ElapsedMilliseconds);
        await AppendEventAsync(EventKinds.DrainTimedOut, owner,
            $"stop {stop.StopId}: after {resume.DrainTimeout.TotalSeconds:0.#} s, {interrupted} turns interrupted, {remarked} sessions re-marked");
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

    [LoggerMessage(Level = LogLevel.Critical, Message = "Stop {StopId}: the premark failed; running sessions are recovered by crash detection once this silo is declared dead")]
    private partial void LogPremarkFailed(Exception exception, Guid stopId);
}
