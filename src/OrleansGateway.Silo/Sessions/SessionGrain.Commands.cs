using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansGateway.Agents;
using OrleansGateway.Resume;
using OrleansGateway.Storage;
using OrleansGateway.Telemetry;

namespace OrleansGateway.Sessions;

// The resume claim and the commands of users and operators: suspend, lift, resume now, release, delete.
public sealed partial class SessionGrain
{
    public async Task<ResumeOutcome> ResumeAsync(ResumeTicket ticket)
    {
        if (runState.IsDraining || TurnLoopRunning)
        {
            return ResumeOutcome.Refused;
        }

        using (await EnterWriteGateAsync())
        {
            // The newest checkpoint: an earlier activation (on a silo that stopped) may have written after this
            // one loaded its state. An activation created for this very call has just read it.
            if (!_stateJustLoaded)
            {
                await ReloadStateAsync();
            }

            _stateJustLoaded = false;
            var next = state.State.NextUnfinished();
            var detail = next is null ? "" : $"turn {next.TurnId} from step {next.StepsDone + 1} ({ticket.Reason})";
            using var span = GatewaySpans.StartClaim(SessionId, ticket.Reason);
            var sentAt = _ownership.Now();
            var claim = await ledger.ClaimResumeAsync(SessionId, ticket.Epoch, Owner, next?.TurnId, next?.Executions ?? 0, detail);
            // The lag is the resumed event's: recorded only when a turn is resumed, as the event is.
            metrics.RecordClaim(won: claim is not null, ticket.Reason, next is null ? null : claim?.Waited);
            span?.SetTag(GatewaySpans.Tags.Outcome, claim is null ? GatewayMetrics.ClaimLost : GatewayMetrics.ClaimWon);
            if (claim is null)
            {
                return ResumeOutcome.Lost;
            }

            _ownership.Hold(claim.Epoch, sentAt);
            if (next is null)
            {
                _ownership.LedgerTurnId = null;
                await FenceStateAsync();
                return ResumeOutcome.NothingToResume;
            }

            _ownership.LedgerTurnId = next.TurnId;
            _claimedStarts = claim.TurnStarts;
            _resume = new ResumeNote(ticket.Reason ?? "unknown", next.StepsDone, ticket.MarkedAt, claim.Attempts);
            LogResumed(SessionId, next.TurnId, ticket.Reason, next.StepsDone, claim.Attempts);
            StartTurnLoop();
            return ResumeOutcome.Resumed;
        }
    }

    public Task<SessionCommandResult> SuspendAsync() => SuspendAsync(actor: null);

    public Task<SessionCommandResult> SuspendByUserAsync() => SuspendAsync(UserActor);

    public Task<SessionCommandResult> LiftSuspensionAsync() => LiftSuspensionAsync(actor: null);

    public Task<SessionCommandResult> LiftUserSuspensionAsync() => LiftSuspensionAsync(UserActor);

    /// <summary>A suspension by <paramref name="actor"/>; the user's (<see cref="UserActor"/>) never touches a quarantine.</summary>
    private async Task<SessionCommandResult> SuspendAsync(string? actor)
    {
        _stateJustLoaded = false;
        using (await EnterWriteGateAsync())
        {
            var byUser = actor == UserActor;
            var suspension = await ledger.TrySuspendAsync(SessionId, byUser);
            switch (suspension)
            {
                case null:
                    return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
                case { Before: SessionPhase.Quarantined } when byUser:
                    return new SessionCommandResult(SessionCommandStatus.Conflict, suspension.Before,
                        $"session {SessionId} is quarantined; an operator must release it (ogw release {SessionId})");
                case { Changed: false }:
                    // A suspension already in place: nothing moved, so nothing is recorded.
                    return new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Suspended, "already suspended");
            }

            // The suspension moved the epoch: this activation owns nothing now, and its running turn (if any)
            // stops at once, checkpointed as interrupted.
            _ownership.Lose();
            _suspending = true;
            _interrupt?.Cancel();
            var was = suspension.Before == SessionPhase.Suspended ? "the user's suspension" : suspension.Before.ToName();
            await events.AppendAsync(EventKinds.Suspended, SessionId, Owner, actor, $"was {was}");
            return new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Suspended, $"suspended (was {was})");
        }
    }

    /// <summary>Lifts a suspension; the user's (<see cref="UserActor"/>) lifts only a suspension the user put in place.</summary>
    private async Task<SessionCommandResult> LiftSuspensionAsync(string? actor)
    {
        _stateJustLoaded = false;
        var row = await queries.GetAsync(SessionId);
        if (row is null)
        {
            return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
        }

        if (row.Phase != SessionPhase.Suspended)
        {
            return new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase, $"session {SessionId} is {row.Phase.ToName()}, not suspended");
        }

        if (_turnLoop is { } loop)
        {
            // The turn the suspension stopped may still be writing its interrupted checkpoint.
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        using (await EnterWriteGateAsync())
        {
            // The newest checkpoint, as a resume claim reads it: this activation may not be the one that was suspended.
            await ReloadStateAsync();
            var next = state.State.NextUnfinished();
            var stop = runState.Stop;
            var byUser = actor == UserActor;
            var sentAt = _ownership.Now();
            var lifted = await ledger.LiftSuspensionAsync(SessionId, Owner, next?.TurnId, stop?.Mark, userSuspensionOnly: byUser);
            if (lifted is not { } ledgerRow)
            {
                return new SessionCommandResult(SessionCommandStatus.Conflict, null, byUser
                    ? $"session {SessionId} was suspended by an operator; only an operator can resume it"
                    : $"session {SessionId} changed while it was being resumed; try again");
            }

            _ownership.Hold(ledgerRow.Epoch, sentAt);
            if (next is not null)
            {
                // A resume claim may have started the turn once more than the state knows (it died before its first checkpoint).
                next.Executions = Math.Max(next.Executions, ledgerRow.TurnStarts);
            }

            _suspending = false;
            await events.AppendAsync(EventKinds.SuspensionLifted, SessionId, Owner, actor, next is null ? "nothing left to run" : $"turn {next.TurnId} continues");
            if (next is null)
            {
                return new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Idle, "resumed; nothing was left to run");
            }

            if (stop is not null)
            {
                return new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.ResumePending, "resumed; it continues on another silo (this one drains)");
            }

            _ownership.LedgerTurnId = next.TurnId;
            if (next.Status == TurnStatus.Interrupted)
            {
                // The agent hears that its step was cut short, as after any resume: its effect may have happened.
                _resume = new ResumeNote(ResumeReasons.Suspended, next.StepsDone, row.UpdatedAt, Attempt: 0);
            }

            StartTurnLoop();
            return new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Running, $"resumed; turn {next.TurnId} continues from step {next.StepsDone + 1}");
        }
    }

    public async Task<SessionCommandResult> ResumeNowAsync()
    {
        _stateJustLoaded = false;
        var row = await queries.GetAsync(SessionId);
        switch (row?.Phase)
        {
            case null:
                return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
            case SessionPhase.Suspended:
                return await LiftSuspensionAsync();
            case SessionPhase.ResumePending:
                return await ClaimNowAsync(new ResumeTicket(row.Epoch, row.ResumeReason, row.ResumeMarkedAt ?? time.GetUtcNow()));
            case SessionPhase.Quarantined:
                return new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase, $"session {SessionId} is quarantined; release it instead");
            default:
                return new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase, $"session {SessionId} is {row.Phase.ToName()}; there is nothing to resume");
        }
    }

    /// <summary>An operator's resume of a resume_pending session, ahead of the sweepers: the claim a sweep would make.</summary>
    private async Task<SessionCommandResult> ClaimNowAsync(ResumeTicket ticket) => await ResumeAsync(ticket) switch
    {
        ResumeOutcome.Resumed => new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Running, "resumed"),
        ResumeOutcome.NothingToResume => new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Idle, "resumed; nothing was left to run"),
        ResumeOutcome.Refused => new SessionCommandResult(SessionCommandStatus.Conflict, SessionPhase.ResumePending,
            $"session {SessionId} sits on a draining silo; the sweepers resume it elsewhere once that silo is gone"),
        _ => new SessionCommandResult(SessionCommandStatus.Conflict, null, $"session {SessionId} changed while it was being resumed; try again"),
    };

    public async Task<SessionCommandResult> ReleaseAsync()
    {
        _stateJustLoaded = false;
        var row = await queries.GetAsync(SessionId);
        if (row is null)
        {
            return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
        }

        if (row.Phase != SessionPhase.Quarantined || await ledger.ReleaseAsync(SessionId) is not var (epoch, reason, markedAt))
        {
            return new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase, $"session {SessionId} is {row.Phase.ToName()}, not quarantined");
        }

        await events.AppendAsync(EventKinds.Released, SessionId, Owner, actor: null, $"after {row.ResumeAttempts} attempts: {row.LastError}");
        var resumed = await ClaimNowAsync(new ResumeTicket(epoch, reason, markedAt));
        return resumed.Status == SessionCommandStatus.Done
            ? resumed with { Message = $"released and {resumed.Message}" }
            : new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.ResumePending, "released; the sweepers resume it");
    }

    public async Task<SessionCommandResult> DeleteAsync()
    {
        _stateJustLoaded = false;
        if (await queries.GetAsync(SessionId) is null && NeverWritten)
        {
            return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
        }

        // The turn stops first. Holding no epoch, the loop ends at its next step and its interruption writes nothing.
        _ownership.Lose();
        _interrupt?.Cancel();
        if (_turnLoop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        using (await EnterWriteGateAsync())
        {
            // State first: should the ledger statement fail, the session still shows and a repeated delete finishes it.
            await state.ClearStateAsync();
            await ledger.DeleteAsync(SessionId, Owner, UserActor);
        }

        LogDeleted(SessionId);
        this.DeactivateOnIdle();
        return new SessionCommandResult(SessionCommandStatus.Done, null, $"session {SessionId} deleted");
    }

    /// <summary>
    /// After a claim that found nothing to run: moves the state's ETag, so that an activation that lost the session
    /// (its silo declared dead while alive) can no longer accept a message into a state nobody would run.
    /// </summary>
    private async Task FenceStateAsync()
    {
        try
        {
            await SaveStateAsync();
        }
        catch (InconsistentStateException)
        {
            // That activation wrote first, after the read this claim went by: what it accepted is in the state, and
            // the session is idle at this activation's epoch, so it runs here.
            await ReloadStateAsync();
            if (state.State.NextUnfinished() is not null)
            {
                StartTurnLoop();
            }
        }
    }
}
