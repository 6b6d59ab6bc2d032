using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Telemetry;
using OrleansGateway.Upgrade;

namespace OrleansGateway.Resume;

/// <summary>
/// Finds interrupted sessions and resumes them, on every silo that is Active and not draining: when the silo
/// becomes Active, on every membership change (a silo died or left), and every <see cref="SessionResumeOptions.SweepInterval"/>.
/// A sweep (1) marks sessions still <c>running</c> on silos the cluster declared dead (crash detection), and audits
/// what this silo runs and (every <see cref="SessionResumeOptions.IdleAuditInterval"/>) idle sessions with work, (2) quarantines sessions resumed too often without progress, (3) leases fresh resume_pending sessions in
/// batches and calls each grain, paced by a token bucket. The grain's claim, not the sweeper, makes it exactly once.
/// Step 3 is left to the newest version's silos while several versions serve (<see cref="SiloVersions"/>).
/// </summary>
internal sealed partial class ResumeSweeper(
    SiloRunState runState,
    SessionLedger ledger,
    EventHistory events,
    SiloDeaths deaths,
    RunningTurns runningTurns,
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILocalSiloDetails localSilo,
    SiloVersions versions,
    IOptions<SessionResumeOptions> options,
    GatewayMetrics metrics,
    ILogger<ResumeSweeper> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    // A running session of this silo whose turn has not been running here for this long lost its activation.
    private static readonly TimeSpan StrandedAfter = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stopping = new();

    // When this silo's sweep next looks for idle sessions with unfinished work: at its first sweep, then once per interval.
    private long _nextIdleAudit;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private Task _loops = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ResumeSweeper), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>Asks for a sweep now instead of at the next period.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A sweep is already asked for.
        }
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loops = Task.WhenAll(Task.Run(() => SweepLoopAsync(_stopping.Token)), Task.Run(() => WatchMembershipAsync(_stopping.Token)));
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loops.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task WatchMembershipAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                Wake();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task SweepLoopAsync(CancellationToken cancellationToken)
    {
        var resume = options.Value;
        using var pace = new TokenBucketRateLimiter(Pacing(resume.MaxResumesPerSecond));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!runState.IsReady)
                {
                    // Starting up (this participant and the one that flags the silo Active start together) or
                    // draining: look again soon, so that a restarted silo resumes at once instead of a period later.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
                    continue;
                }

                await SweepAsync(pace, cancellationToken);
                await _wake.WaitAsync(resume.SweepInterval, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogSweepFailed(exception);
                await Task.Delay(resume.SweepInterval, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// A bucket that hands out <paramref name="perSecond"/> tokens a second in tenths of a second (whole tokens; slower
    /// rates one token at a time), so that a burst is at most a tenth of the rate. The rate is this silo's.
    /// </summary>
    internal static TokenBucketRateLimiterOptions Pacing(int perSecond)
    {
        var tokens = Math.Max(1, perSecond / 10);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)tokens / perSecond),
            QueueLimit = int.MaxValue,
            AutoReplenishment = true,
        };
    }

    private async Task SweepAsync(RateLimiter pace, CancellationToken cancellationToken)
    {
        using var span = GatewaySpans.StartSweep();
        var resume = options.Value;
        var deadMembers = membership.CurrentSnapshot.Members.Values.Where(member => member.Status == SiloStatus.Dead).ToList();
        var dead = deadMembers.Select(member => member.SiloAddress.ToParsableString()).ToList();
        var orphaned = await ledger.MarkOrphanedAsync(dead, cancellationToken);
        var sweeper = localSilo.SiloAddress.ToParsableString();
        await deaths.RecordAsync(deadMembers, sweeper, cancellationToken);
        if (orphaned > 0)
        {
            LogOrphansMarked(orphaned);
            await events.AppendAsync(EventKinds.CrashDetected, sessionId: null, sweeper, actor: null,
                $"{orphaned} sessions of dead silos marked restart_interrupted", cancellationToken);
        }

        foreach (var sessionId in await ledger.MarkStrandedAsync(sweeper, runningTurns.SessionIds, StrandedAfter, cancellationToken))
        {
            LogStranded(sessionId);
        }

        await AuditIdleAsync(cancellationToken);

        foreach (var sessionId in await ledger.QuarantineExhaustedAsync(resume.MaxAttempts, cancellationToken))
        {
            LogQuarantined(sessionId, resume.MaxAttempts);
            metrics.RecordQuarantine();
            await events.AppendAsync(EventKinds.Quarantined, sessionId, sweeper, actor: null,
                $"resumed {resume.MaxAttempts} times without progress", cancellationToken);
        }

        await versions.RefreshAsync(cancellationToken);
        if (!versions.LocalIsNewest)
        {
            // A rolling upgrade: a newer silo takes the interrupted sessions, so that they are not interrupted again
            // when this one stops. Should it go, the next membership change wakes this sweep.
            LogLeftToNewerVersion(versions.Local.Text);
            return;
        }

        // One stream over the leased batches: the next batch is leased while the last sessions of this one are still
        // being resumed, so the parallel calls never wait at a batch boundary.
        var resumer = new OwnerSkippingResumer(pace, ResumeOneAsync,
            (candidate, token) => ledger.ReleaseLeaseAsync(candidate.SessionId, sweeper, token));
        await Parallel.ForEachAsync(LeaseBatchesAsync(sweeper, resumer, cancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            resumer.ResumeAsync);
    }

    /// <summary>
    /// The stranded audit's other half: idle sessions with unfinished work in their grain state (a message acknowledged
    /// that nobody runs) become resume_pending for this very sweep to claim. Any silo's, whoever stored the message.
    /// </summary>
    private async Task AuditIdleAsync(CancellationToken cancellationToken)
    {
        if (Environment.TickCount64 < Volatile.Read(ref _nextIdleAudit))
        {
            return;
        }

        Volatile.Write(ref _nextIdleAudit, Environment.TickCount64 + (long)options.Value.IdleAuditInterval.TotalMilliseconds);
        try
        {
            foreach (var sessionId in await ledger.MarkIdleWithWorkAsync(GatewayStorageNames.SessionState, StrandedAfter,
                options.Value.FreshnessWindow, cancellationToken))
            {
                LogIdleWithWork(sessionId);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Defense in depth only: its failure (a state this query cannot read) must not stop crash detection and resumes.
            LogIdleAuditFailed(exception);
        }
    }

    /// <summary>
    /// Fresh resume_pending sessions, leased a batch at a time, until none is left (but those of the owners
    /// <paramref name="resumer"/> skips), or the silo stops being ready.
    /// </summary>
    private async IAsyncEnumerable<ResumeCandidate> LeaseBatchesAsync(string sweeper, OwnerSkippingResumer resumer,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var resume = options.Value;
        while (runState.IsReady)
        {
            var batch = await ledger.LeaseResumableAsync(sweeper, resume.FreshnessWindow, resume.ResumeLease, resume.SweepBatchSize,
                resume.MaxAttempts, resumer.SkippedOwners, cancellationToken);
            foreach (var candidate in batch)
            {
                yield return candidate;
            }

            if (batch.Count < resume.SweepBatchSize)
            {
                yield break;
            }
        }
    }

    /// <summary>The grain's answer, or null when the call failed (the activation may sit on a silo that just died).</summary>
    private async Task<ResumeOutcome?> ResumeOneAsync(ResumeCandidate candidate)
    {
        try
        {
            // Only this call's flow: the mark goes with the calls of this method and ends with it.
            ResumeSpread.MarkCalls();
            return await grains.GetGrain<ISessionGrain>(candidate.SessionId)
                .ResumeAsync(new ResumeTicket(candidate.Epoch, candidate.Reason, candidate.MarkedAt));
        }
        catch (Exception exception)
        {
            LogResumeCallFailed(candidate.SessionId, exception.GetType().Name, exception.Message);
            return null;
        }
    }
}
