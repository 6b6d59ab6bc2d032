using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansGateway.Agents;
using OrleansGateway.Hosting;
using OrleansGateway.Resume;
using OrleansGateway.Storage;

namespace OrleansGateway.Sessions;

/// <summary>
/// One conversation: a durable inbox of messages worked off as turns, one at a time, in arrival order.
/// A turn runs in the background of the activation (not inside a grain request), so the grain stays
/// responsive and deactivation is never held hostage by minutes of agent work.
/// </summary>
/// <remarks>
/// Ownership is the ledger's epoch, not the activation: a turn starts only after a fenced ledger write took
/// the session (an idle session, a resume claim, a lifted suspension), and every later write is fenced on that
/// epoch. Local placement puts a resumed session on the silo whose sweeper claimed it, and never on a draining silo.
/// </remarks>
[LocalUnlessDrainingPlacement]
public sealed partial class SessionGrain(
    [PersistentState("session", GatewayStorageNames.Sessions)] IPersistentState<SessionState> state,
    SessionLedger ledger,
    EventHistory events,
    ActiveSessions activeSessions,
    IAgent agent,
    SiloRunState runState,
    RunningTurns runningTurns,
    IOptions<SessionResumeOptions> resumeOptions,
    ILocalSiloDetails localSilo,
    TimeProvider time,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    // The actor of the user API's suspensions and their lifting, in the ledger and the event history.
    private const string UserActor = "user";

    // Every durable write (grain state and ledger row) goes through this gate. The background turn loop and
    // grain requests interleave at their awaits; one writer at a time keeps the ETag and the epoch fence honest.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _deactivating = new();

    // The epoch this activation holds in the ledger; null while it does not own the session.
    private long? _epoch;

    // The turn the ledger records as running for this activation; null when it records none.
    private string? _ledgerTurnId;
    private Task? _turnLoop;
    private CancellationTokenSource? _interrupt;
    private ResumeNote? _resume;

    // Set by a won resume claim: how many times the claimed turn has now been started, which the claim recorded in the
    // ledger. The turn then starts without a state write of its own; its first checkpoint records the count.
    private int? _claimedStarts;
    private bool _suspending;

    // True until the first call after activation: the state was read while activating, just now.
    private bool _stateJustLoaded = true;

    private string SessionId => this.GetPrimaryKeyString();

    private string Owner => localSilo.SiloAddress.ToParsableString();

    private bool TurnLoopRunning => _turnLoop is { IsCompleted: false };

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        activeSessions.Activated();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        activeSessions.Deactivated();
        await _deactivating.CancelAsync();
        if (_turnLoop is { } loop)
        {
            // The running step stops cooperatively and the turn records itself interrupted; give up waiting
            // when Orleans' deactivation timeout says so, the checkpoint before that step is durable anyway.
            await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }
    }

    public async Task<MessageAccepted> PostMessageAsync(SessionMessage message)
    {
        _stateJustLoaded = false;
        await _writeGate.WaitAsync();
        try
        {
            if (state.State.FindByMessageId(message.MessageId) is { } known)
            {
                return new MessageAccepted(SessionId, known.MessageId, known.TurnId, Duplicate: true);
            }

            var turn = Enqueue(message);
            Admission admission;
            try
            {
                admission = await AdmitAsync(turn, message);
            }
            catch
            {
                Dequeue(message.MessageId);
                throw;
            }

            if (admission.Refused)
            {
                Dequeue(message.MessageId);
                LogRefused(SessionId, message.MessageId, admission.Phase);
                throw new MessageRefusedException(admission.Note ?? $"session {SessionId} takes no messages while {admission.Phase.ToName()}");
            }

            LogAccepted(SessionId, admission.Turn.TurnId, message.MessageId);
            if (admission.Start)
            {
                StartTurnLoop();
            }

            return new MessageAccepted(SessionId, message.MessageId, admission.Turn.TurnId, Duplicate: false, admission.Phase, admission.Note);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private TurnRecord Enqueue(SessionMessage message)
    {
        var turn = new TurnRecord
        {
            TurnId = $"t{state.State.LastTurnNumber + 1}",
            MessageId = message.MessageId,
            Text = message.Text,
            Status = TurnStatus.Queued,
            StepsTotal = agent.PlannedSteps(message.Text),
            AcceptedAt = time.GetUtcNow(),
        };
        state.State.Turns.Add(turn);
        state.State.LastTurnNumber++;
        return turn;
    }

    private void Dequeue(string messageId)
    {
        if (state.State.Turns.RemoveAll(turn => turn.MessageId == messageId) > 0)
        {
            state.State.LastTurnNumber--;
        }
    }

    /// <summary>What a new message finds: it runs here, waits for whoever takes the session next, or is refused.</summary>
    private sealed record Admission(TurnRecord Turn, SessionPhase Phase, string? Note = null, bool Start = false, bool Refused = false);

    /// <summary>Takes the session for <paramref name="turn"/> where it may, and stores the message unless it is refused.</summary>
    private async Task<Admission> AdmitAsync(TurnRecord turn, SessionMessage message)
    {
        if (TurnLoopRunning)
        {
            // The loop takes the next queued turn when this one ends, in the same ledger write.
            await state.WriteStateAsync();
            return new Admission(turn, SessionPhase.Running, "queued behind the running turn");
        }

        // Write-ahead: when nothing runs, the ledger says "running here" (or, on a draining silo, "resume elsewhere")
        // before the message is acknowledged, so a stop or crash from now on finds the session among those with work.
        var stop = runState.Stop;
        var epoch = await ledger.BeginTurnAsync(SessionId, _epoch, Owner, turn.TurnId, stop?.Mark);
        if (epoch is not null)
        {
            _epoch = epoch;
            _suspending = false;
            _ledgerTurnId = stop is null ? turn.TurnId : null;
            await state.WriteStateAsync();
            return stop is null
                ? new Admission(turn, SessionPhase.Running, Start: true)
                : new Admission(turn, SessionPhase.ResumePending, "queued: this silo is stopping; another silo runs it");
        }

        // Not idle: whoever takes the session next (a resume, a lifted suspension) runs the queued message, except
        // where nobody would: a stale interruption is never resumed, a quarantine waits for an operator.
        var row = await ledger.GetAsync(SessionId, resumeOptions.Value.FreshnessWindow);
        switch (row)
        {
            case { Phase: SessionPhase.Quarantined }:
                return new Admission(turn, SessionPhase.Quarantined,
                    $"session {SessionId} is quarantined ({row.LastError ?? "no error recorded"}); it takes no messages until an operator releases it (ogw release {SessionId})",
                    Refused: true);
            case { Phase: SessionPhase.ResumePending } when row.ResumeAttempts >= resumeOptions.Value.MaxAttempts:
                // Out of attempts: never leased again, quarantined by the next sweep.
                return new Admission(turn, SessionPhase.Quarantined,
                    $"session {SessionId} was resumed {row.ResumeAttempts} times without progress and is being quarantined; it takes no messages until an operator releases it (ogw release {SessionId})",
                    Refused: true);
            case { Phase: SessionPhase.ResumePending, Stale: true }:
                return await TakeOverStaleAsync(message, row);
        }

        await state.WriteStateAsync();
        return row?.Phase switch
        {
            SessionPhase.Suspended => new Admission(turn, SessionPhase.Suspended, "queued: the session is suspended; it runs once the suspension is lifted"),
            SessionPhase.ResumePending => new Admission(turn, SessionPhase.ResumePending, "queued: the interrupted turn resumes first"),
            var phase => new Admission(turn, phase ?? SessionPhase.Running, "queued behind the running turn"),
        };
    }

    /// <summary>
    /// A message to a session whose interruption is too old to be resumed: the interrupted turn ends failed, saying so,
    /// and the session runs its queued turns and this message here.
    /// </summary>
    private async Task<Admission> TakeOverStaleAsync(SessionMessage message, LedgerRow row)
    {
        Admission admission;
        string ended;
        try
        {
            // The newest checkpoint, as a resume claim reads it: the interrupted turn may have been written by another activation.
            Dequeue(message.MessageId);
            await state.ReadStateAsync();
            var turn = Enqueue(message);
            var window = resumeOptions.Value.FreshnessWindow;
            var age = await ledger.MarkerAgeAsync(SessionId) ?? TimeSpan.Zero;
            var reason = $"abandoned: interrupted {Describe(age)} ago, older than the freshness window ({Describe(window)})";
            var abandoned = state.State.Turns.FindAll(t => !t.IsFinished && t.Status != TurnStatus.Queued);
            foreach (var stale in abandoned)
            {
                stale.Status = TurnStatus.Failed;
                stale.Error = reason;
                stale.FinishedAt = time.GetUtcNow();
            }

            var next = state.State.NextUnfinished()!;
            var stop = runState.Stop;
            _epoch = await ledger.BeginTurnAsync(SessionId, expectedEpoch: null, Owner, next.TurnId, stop?.Mark, new StaleTakeover(row.Epoch, window, reason))
                ?? throw new LedgerFenceException(SessionId);
            _suspending = false;
            _ledgerTurnId = stop is null ? next.TurnId : null;
            await state.WriteStateAsync();
            ended = abandoned.Count == 0 ? "" : $"turn {string.Join(", ", abandoned.Select(t => t.TurnId))} {reason}; ";
            admission = stop is null
                ? new Admission(turn, SessionPhase.Running, $"{ended}the session runs again", Start: true)
                : new Admission(turn, SessionPhase.ResumePending, $"{ended}this silo is stopping; another silo runs it");
        }
        catch
        {
            // The abandoned turns are marked in memory only: a new activation reads what was really stored.
            _epoch = null;
            this.DeactivateOnIdle();
            throw;
        }

        LogAbandoned(SessionId, ended);
        try
        {
            await events.AppendAsync(EventKinds.Abandoned, SessionId, Owner, actor: null, $"{ended}new message {message.MessageId} runs");
        }
        catch (Exception exception)
        {
            // The message is stored and the session taken: the history misses one line, the user is not told a lie.
            LogHistoryFailed(exception, SessionId);
        }

        return admission;
    }

    private static string Describe(TimeSpan span) => span.TotalHours >= 1
        ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
        : $"{(int)span.TotalMinutes}m{span.Seconds:00}s";

    public async Task<SessionView?> GetAsync()
    {
        _stateJustLoaded = false;
        var row = await ledger.GetAsync(SessionId, resumeOptions.Value.FreshnessWindow);
        if (row is null && state.State.Turns.Count == 0)
        {
            return null;
        }

        return new SessionView(
            SessionId,
            row?.Phase ?? SessionPhase.Idle,
            row?.ResumeReason,
            row?.ResumeAttempts ?? 0,
            row?.OwnerSilo,
            state.State.Turns.ConvertAll(turn => turn.ToView() with
            {
                // Starts by resume claims that died before their first checkpoint are in the ledger only.
                Executions = turn.TurnId == row?.ActiveTurnId ? Math.Max(turn.Executions, row.ActiveTurnStarts) : turn.Executions,
            }),
            row?.ResumeMarkedAt,
            row?.Stale ?? false,
            row?.LastError);
    }

    public async Task<ResumeOutcome> ResumeAsync(ResumeTicket ticket)
    {
        if (runState.IsDraining || TurnLoopRunning)
        {
            return ResumeOutcome.Refused;
        }

        await _writeGate.WaitAsync();
        try
        {
            // The newest checkpoint: an earlier activation (on a silo that stopped) may have written after this
            // one loaded its state. An activation created for this very call has just read it.
            if (!_stateJustLoaded)
            {
                await state.ReadStateAsync();
            }

            _stateJustLoaded = false;
            var next = state.State.NextUnfinished();
            var detail = next is null ? "" : $"turn {next.TurnId} from step {next.StepsDone + 1} ({ticket.Reason})";
            var claim = await ledger.ClaimResumeAsync(SessionId, ticket.Epoch, Owner, next?.TurnId, next?.Executions ?? 0, detail);
            if (claim is null)
            {
                return ResumeOutcome.Lost;
            }

            _epoch = claim.Epoch;
            if (next is null)
            {
                _ledgerTurnId = null;
                await FenceStateAsync();
                return ResumeOutcome.NothingToResume;
            }

            _ledgerTurnId = next.TurnId;
            _claimedStarts = claim.TurnStarts;
            _resume = new ResumeNote(ticket.Reason ?? "unknown", next.StepsDone, ticket.MarkedAt, claim.Attempts);
            LogResumed(SessionId, next.TurnId, ticket.Reason, next.StepsDone, claim.Attempts);
            StartTurnLoop();
            return ResumeOutcome.Resumed;
        }
        finally
        {
            _writeGate.Release();
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
        await _writeGate.WaitAsync();
        try
        {
            var byUser = actor == UserActor;
            var before = await ledger.SuspendAsync(SessionId, byUser);
            switch (before)
            {
                case null:
                    return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
                case SessionPhase.Quarantined when byUser:
                    return new SessionCommandResult(SessionCommandStatus.Conflict, before,
                        $"session {SessionId} is quarantined; an operator must release it (ogw release {SessionId})");
                case SessionPhase.Suspended when byUser:
                    return new SessionCommandResult(SessionCommandStatus.Done, before, "already suspended");
            }

            // The suspension moved the epoch: this activation owns nothing now, and its running turn (if any)
            // stops at once, checkpointed as interrupted.
            _epoch = null;
            _ledgerTurnId = null;
            _suspending = true;
            _interrupt?.Cancel();
            await events.AppendAsync(EventKinds.Suspended, SessionId, Owner, actor, $"was {before.Value.ToName()}");
            return new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Suspended,
                before == SessionPhase.Suspended ? "already suspended" : $"suspended (was {before.Value.ToName()})");
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Lifts a suspension; the user's (<see cref="UserActor"/>) lifts only a suspension the user put in place.</summary>
    private async Task<SessionCommandResult> LiftSuspensionAsync(string? actor)
    {
        _stateJustLoaded = false;
        var row = await ledger.GetAsync(SessionId);
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

        await _writeGate.WaitAsync();
        try
        {
            // The newest checkpoint, as a resume claim reads it: this activation may not be the one that was suspended.
            await state.ReadStateAsync();
            var next = state.State.NextUnfinished();
            var stop = runState.Stop;
            var byUser = actor == UserActor;
            var lifted = await ledger.LiftSuspensionAsync(SessionId, Owner, next?.TurnId, stop?.Mark, userSuspensionOnly: byUser);
            if (lifted is not { } ledgerRow)
            {
                return new SessionCommandResult(SessionCommandStatus.Conflict, null, byUser
                    ? $"session {SessionId} was suspended by an operator; only an operator can resume it"
                    : $"session {SessionId} changed while it was being resumed; try again");
            }

            _epoch = ledgerRow.Epoch;
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

            _ledgerTurnId = next.TurnId;
            if (next.Status == TurnStatus.Interrupted)
            {
                // The agent hears that its step was cut short, as after any resume: its effect may have happened.
                _resume = new ResumeNote(ResumeReasons.Suspended, next.StepsDone, row.UpdatedAt, Attempt: 0);
            }

            StartTurnLoop();
            return new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Running, $"resumed; turn {next.TurnId} continues from step {next.StepsDone + 1}");
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task<SessionCommandResult> ResumeNowAsync()
    {
        _stateJustLoaded = false;
        var row = await ledger.GetAsync(SessionId);
        switch (row?.Phase)
        {
            case null:
                return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
            case SessionPhase.Suspended:
                return await LiftSuspensionAsync();
            case SessionPhase.ResumePending:
                var outcome = await ResumeAsync(new ResumeTicket(row.Epoch, row.ResumeReason, row.ResumeMarkedAt ?? time.GetUtcNow()));
                return outcome switch
                {
                    ResumeOutcome.Resumed => new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Running, "resumed"),
                    ResumeOutcome.NothingToResume => new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.Idle, "resumed; nothing was left to run"),
                    ResumeOutcome.Refused => new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase,
                        $"session {SessionId} sits on a draining silo; the sweepers resume it elsewhere once that silo is gone"),
                    _ => new SessionCommandResult(SessionCommandStatus.Conflict, null, $"session {SessionId} changed while it was being resumed; try again"),
                };
            case SessionPhase.Quarantined:
                return new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase, $"session {SessionId} is quarantined; release it instead");
            default:
                return new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase, $"session {SessionId} is {row.Phase.ToName()}; there is nothing to resume");
        }
    }

    public async Task<SessionCommandResult> ReleaseAsync()
    {
        _stateJustLoaded = false;
        var row = await ledger.GetAsync(SessionId);
        if (row is null)
        {
            return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
        }

        if (row.Phase != SessionPhase.Quarantined || !await ledger.ReleaseAsync(SessionId))
        {
            return new SessionCommandResult(SessionCommandStatus.Conflict, row.Phase, $"session {SessionId} is {row.Phase.ToName()}, not quarantined");
        }

        await events.AppendAsync(EventKinds.Released, SessionId, Owner, actor: null, $"after {row.ResumeAttempts} attempts: {row.LastError}");
        var resumed = await ResumeNowAsync();
        return resumed.Status == SessionCommandStatus.Done
            ? resumed with { Message = $"released and {resumed.Message}" }
            : new SessionCommandResult(SessionCommandStatus.Done, SessionPhase.ResumePending, "released; the sweepers resume it");
    }

    public async Task<SessionCommandResult> DeleteAsync()
    {
        _stateJustLoaded = false;
        if (await ledger.GetAsync(SessionId) is null && state.State.Turns.Count == 0)
        {
            return new SessionCommandResult(SessionCommandStatus.NotFound, null, $"session {SessionId} does not exist");
        }

        // The turn stops first. Holding no epoch, the loop ends at its next step and its interruption writes nothing.
        _epoch = null;
        _ledgerTurnId = null;
        _interrupt?.Cancel();
        if (_turnLoop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        await _writeGate.WaitAsync();
        try
        {
            // State first: should the ledger statement fail, the session still shows and a repeated delete finishes it.
            await state.ClearStateAsync();
            await ledger.DeleteAsync(SessionId, Owner, UserActor);
        }
        finally
        {
            _writeGate.Release();
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
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // That activation wrote first, after the read this claim went by: what it accepted is in the state, and
            // the session is idle at this activation's epoch, so it runs here.
            await state.ReadStateAsync();
            if (state.State.NextUnfinished() is not null)
            {
                StartTurnLoop();
            }
        }
    }

    private void StartTurnLoop()
    {
        if (!TurnLoopRunning)
        {
            // Not awaited: the loop runs on this activation's scheduler, interleaving with requests at its awaits.
            _turnLoop = RunTurnsAsync();
        }
    }

    private async Task RunTurnsAsync()
    {
        // Nothing between the check and the return awaits, so a message accepted after the loop saw an empty
        // inbox finds the loop finished and starts a new one.
        while (_epoch is not null && !_deactivating.IsCancellationRequested && state.State.NextUnfinished() is { } turn)
        {
            try
            {
                if (!await RunTurnAsync(turn))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                // Interrupted (deactivation, drain timeout, suspension): the turn recorded its checkpoint.
                return;
            }
            catch (LedgerFenceException) when (_suspending)
            {
                // Suspended before the turn could start: nothing ran, nothing to record.
                return;
            }
            catch (LedgerFenceException)
            {
                // A claim or a suspension took the session: this activation stops and writes nothing more.
                LogSuperseded(SessionId, _epoch);
                _epoch = null;
                this.DeactivateOnIdle();
                return;
            }
            catch (InconsistentStateException)
            {
                // The ledger says this activation owns the session, but the grain state moved under it: an activation
                // that had lost the session wrote one last checkpoint between its fence and its write. The state is
                // theirs now; hand the session to the sweepers at once, for an activation that reads it afresh.
                LogStateMoved(SessionId, turn.TurnId);
                try
                {
                    if (_epoch is { } epoch)
                    {
                        await ledger.MarkSelfAsync(SessionId, epoch, ResumeReasons.Deactivated, stopId: null);
                    }
                }
                catch (Exception exception)
                {
                    // Left running here: this silo's sweeper finds it stranded and has it resumed.
                    LogTurnLoopFailed(exception, SessionId, turn.TurnId);
                }

                _epoch = null;
                this.DeactivateOnIdle();
                return;
            }
            catch (Exception exception)
            {
                // Storage or ledger trouble: the checkpoint stays as it was and this activation goes. If the ledger
                // still says running here, the sweeper of this silo finds it stranded and has it resumed.
                LogTurnLoopFailed(exception, SessionId, turn.TurnId);
                this.DeactivateOnIdle();
                return;
            }
            finally
            {
                _resume = null;
            }
        }
    }

    /// <summary>Runs one turn to its end; false when the loop must stop (the silo drains).</summary>
    private async Task<bool> RunTurnAsync(TurnRecord turn)
    {
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(_deactivating.Token);
        _interrupt = interrupt;
        try
        {
            return await RunTurnAsync(turn, interrupt);
        }
        finally
        {
            _interrupt = null;
        }
    }

    private async Task<bool> RunTurnAsync(TurnRecord turn, CancellationTokenSource interrupt)
    {
        // A claim's count is for the start right after it, and for no later one.
        var claimedStarts = _claimedStarts;
        _claimedStarts = null;

        // Tracked before the drain check, so that a drain starting now either sees this turn or is seen by it.
        using var tracked = runningTurns.Track(SessionId, interrupt);
        if (runState.Stop is { } stop)
        {
            await WriteAsync(async () =>
            {
                if (await ledger.MarkSelfAsync(SessionId, _epoch!.Value, stop.Reason, stop.StopId))
                {
                    LogDeferred(SessionId, turn.TurnId, stop.StopId);
                }

                if (claimedStarts is not null)
                {
                    await ledger.WithdrawClaimedStartAsync(SessionId, _epoch!.Value);
                }
            });
            return false;
        }

        if (claimedStarts is { } starts && _ledgerTurnId == turn.TurnId)
        {
            // Resumed: the claim wrote this start to the ledger, in the statement that took the session. Writing the
            // state too would double what a restarted silo writes per resumed session before any turn runs again.
            turn.Status = TurnStatus.Running;
            turn.Executions = starts;
        }
        else
        {
            await WriteAsync(async () =>
            {
                if (_ledgerTurnId != turn.TurnId)
                {
                    _epoch = await ledger.BeginTurnAsync(SessionId, _epoch, Owner, turn.TurnId) ?? throw new LedgerFenceException(SessionId);
                    _ledgerTurnId = turn.TurnId;
                }

                turn.Status = TurnStatus.Running;
                turn.Executions++;
                await state.WriteStateAsync();
            });
        }

        LogTurnStarted(SessionId, turn.TurnId, turn.Executions, turn.StepsDone);

        // A turn gets no grain calls while it works; without this the activation would be collected as idle.
        using var keepAlive = this.RegisterGrainTimer(static () => Task.CompletedTask,
            new GrainTimerCreationOptions { DueTime = TimeSpan.FromMinutes(1), Period = TimeSpan.FromMinutes(1), KeepAlive = true });

        string? error = null;
        var resumedWithoutProgress = _resume is { Attempt: > 0 };
        while (!turn.IsFinished)
        {
            AgentStepResult result;
            try
            {
                result = await agent.RunStepAsync(new AgentStep(SessionId, turn.TurnId, turn.Text, turn.StepsDone, _resume), interrupt.Token);
            }
            catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
            {
                await RecordInterruptionAsync(turn);
                throw;
            }
            catch (Exception exception)
            {
                error = $"step {turn.StepsDone + 1} failed: {exception.Message}";
                LogStepFailed(exception, SessionId, turn.TurnId, turn.StepsDone + 1);
                result = new AgentStepResult((string?)null);
            }

            await WriteAsync(async () =>
            {
                // The checkpoint: this step's effect is recorded, a resume continues with the next one. Fenced first: an
                // activation that lost the session must not overwrite its new owner's checkpoint.
                var progressed = resumedWithoutProgress && error is null;
                if (!await ledger.HoldsEpochAsync(SessionId, _epoch!.Value, progressed))
                {
                    throw new LedgerFenceException(SessionId);
                }

                resumedWithoutProgress &= !progressed;
                if (error is not null)
                {
                    turn.Status = TurnStatus.Failed;
                    turn.Error = error;
                    turn.FinishedAt = time.GetUtcNow();
                }
                else
                {
                    turn.StepsDone++;
                    if (result.Reply is not null)
                    {
                        turn.Reply = result.Reply;
                        turn.Status = TurnStatus.Completed;
                        turn.FinishedAt = time.GetUtcNow();
                    }
                }

                await state.WriteStateAsync();
            });
        }

        var awaitsClaim = false;
        await WriteAsync(async () =>
        {
            var next = state.State.NextUnfinished();
            var stop = runState.Stop;
            var markers = next is not null && stop is not null ? MarkerChange.Defer
                : turn.Status == TurnStatus.Completed ? MarkerChange.Clear
                : MarkerChange.Keep;
            (_epoch, awaitsClaim) = await ledger.EndTurnAsync(SessionId, _epoch!.Value, markers, turn.Error, next?.TurnId, stop?.Mark)
                ?? throw new LedgerFenceException(SessionId);
            // A premark (or crash detection) that came while the turn ran left the queued work to a claim: not run here.
            _ledgerTurnId = awaitsClaim ? null : next?.TurnId;
        });
        LogTurnFinished(SessionId, turn.TurnId, turn.Status);
        return runState.Stop is null && !awaitsClaim;
    }

    private async Task RecordInterruptionAsync(TurnRecord turn)
    {
        // Written even when this activation's own suspension took the session (the state is still its alone), but not
        // when a claim elsewhere did: the state is the new owner's then.
        await WriteAsync(requireOwnership: false, write: async () =>
        {
            if (!_suspending && (_epoch is not { } held || !await ledger.HoldsEpochAsync(SessionId, held, progressed: false)))
            {
                return;
            }

            turn.Status = TurnStatus.Interrupted;
            await state.WriteStateAsync();

            // A drain marked this session already and a suspension took it; any other interruption
            // (Orleans deactivating the grain on a silo that keeps running) must leave it to be resumed.
            if (!_suspending && !runState.IsDraining && _epoch is { } epoch)
            {
                await ledger.MarkSelfAsync(SessionId, epoch, ResumeReasons.Deactivated, stopId: null);
            }
        });
        LogInterrupted(SessionId, turn.TurnId, turn.StepsDone);
    }

    private Task WriteAsync(Func<Task> write) => WriteAsync(requireOwnership: true, write);

    private async Task WriteAsync(bool requireOwnership, Func<Task> write)
    {
        await _writeGate.WaitAsync();
        try
        {
            if (requireOwnership && _epoch is null)
            {
                throw new LedgerFenceException(SessionId);
            }

            await write();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} deleted by the user")]
    private partial void LogDeleted(string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} accepted message {MessageId} as turn {TurnId}")]
    private partial void LogAccepted(string sessionId, string turnId, string messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} refused message {MessageId}: it is {Phase}")]
    private partial void LogRefused(string sessionId, string messageId, SessionPhase phase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: the abandoned event could not be written")]
    private partial void LogHistoryFailed(Exception exception, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} took over its stale interruption for a new message: {Abandoned}")]
    private partial void LogAbandoned(string sessionId, string abandoned);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} turn {TurnId} started (execution {Execution}, from step {Step})")]
    private partial void LogTurnStarted(string sessionId, string turnId, int execution, int step);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} turn {TurnId} finished {Status}")]
    private partial void LogTurnFinished(string sessionId, string turnId, TurnStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} resumed turn {TurnId} ({Reason}) from step {Step}, attempt {Attempt}")]
    private partial void LogResumed(string sessionId, string turnId, string? reason, int step, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} turn {TurnId} interrupted after {StepsDone} checkpointed steps")]
    private partial void LogInterrupted(string sessionId, string turnId, int stepsDone);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} turn {TurnId} left for another silo: stop {StopId} drains this one")]
    private partial void LogDeferred(string sessionId, string turnId, Guid stopId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} turn {TurnId} step {Step} failed")]
    private partial void LogStepFailed(Exception exception, string sessionId, string turnId, int step);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} turn {TurnId} stopped on a storage error; its checkpoint stays")]
    private partial void LogTurnLoopFailed(Exception exception, string sessionId, string turnId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} turn {TurnId}: the grain state was written by an activation that had lost the session; handed back to the sweepers")]
    private partial void LogStateMoved(string sessionId, string turnId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was taken over (this activation held epoch {Epoch}); it stops writing")]
    private partial void LogSuperseded(string sessionId, long? epoch);
}

/// <summary>
/// The session takes no message now (quarantined, or about to be) and stored nothing: the ingress answers 409 with the
/// reason. An exception so that an ingress of release 0.1, which knows no refusal, answers an error, never a 202.
/// </summary>
[GenerateSerializer, Alias("OrleansGateway.Sessions.MessageRefusedException")]
public sealed class MessageRefusedException : Exception
{
    public MessageRefusedException(string reason) : base(reason)
    {
    }

    public MessageRefusedException()
    {
    }
}

/// <summary>A fenced ledger write matched no row: this activation no longer owns the session.</summary>
public sealed class LedgerFenceException(string sessionId)
    : Exception($"session {sessionId} is owned by a newer activation; retry the request");
