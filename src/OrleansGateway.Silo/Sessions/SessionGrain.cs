using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansGateway.Agents;
using OrleansGateway.Storage;

namespace OrleansGateway.Sessions;

/// <summary>
/// One conversation: a durable inbox of messages worked off as turns, one at a time, in arrival order.
/// A turn runs in the background of the activation (not inside a grain request), so the grain stays
/// responsive and deactivation is never held hostage by minutes of agent work.
/// </summary>
public sealed partial class SessionGrain(
    [PersistentState("session", GatewayStorageNames.Sessions)] IPersistentState<SessionState> state,
    SessionLedger ledger,
    IAgent agent,
    ILocalSiloDetails localSilo,
    TimeProvider time,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    // Every durable write (grain state and ledger row) goes through this gate. The background turn loop and
    // grain requests interleave at their awaits; one writer at a time keeps the ETag and the epoch fence honest.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _deactivating = new();

    // The epoch this activation holds in the ledger; null until its first ledger write claims one.
    private long? _epoch;

    // The turn the ledger currently records as running for this activation; null when it says idle.
    private string? _ledgerTurnId;
    private Task? _turnLoop;
    private bool _superseded;

    private string SessionId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Work left unfinished by an earlier activation (a crash, a stopped silo) continues from its checkpoint.
        if (state.State.NextUnfinished() is not null)
        {
            StartTurnLoop();
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
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
        await _writeGate.WaitAsync();
        try
        {
            ThrowIfSuperseded();
            if (state.State.FindByMessageId(message.MessageId) is { } known)
            {
                return new MessageAccepted(SessionId, known.MessageId, known.TurnId, Duplicate: true);
            }

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
            try
            {
                // Write-ahead: the ledger says "running here" before the message is acknowledged, so a stop or
                // crash from now on finds this session among the ones with work.
                if (_ledgerTurnId is null)
                {
                    await BeginTurnInLedgerAsync(turn);
                }

                await state.WriteStateAsync();
            }
            catch
            {
                state.State.Turns.Remove(turn);
                state.State.LastTurnNumber--;
                throw;
            }

            LogAccepted(SessionId, turn.TurnId, turn.MessageId);
            StartTurnLoop();
            return new MessageAccepted(SessionId, turn.MessageId, turn.TurnId, Duplicate: false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task<SessionView?> GetAsync()
    {
        var row = await ledger.GetAsync(SessionId);
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
            state.State.Turns.ConvertAll(turn => turn.ToView()));
    }

    private void StartTurnLoop()
    {
        if (_turnLoop is null || _turnLoop.IsCompleted)
        {
            // Not awaited: the loop runs on this activation's scheduler, interleaving with requests at its awaits.
            _turnLoop = RunTurnsAsync();
        }
    }

    private async Task RunTurnsAsync()
    {
        // Nothing between the check and the return awaits, so a message accepted after the loop saw an empty
        // inbox finds the loop finished and starts a new one.
        while (!_superseded && !_deactivating.IsCancellationRequested && state.State.NextUnfinished() is { } turn)
        {
            try
            {
                await RunTurnAsync(turn);
            }
            catch (OperationCanceledException) when (_deactivating.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (IsSuperseded(exception))
            {
                MarkSuperseded();
                return;
            }
            catch (Exception exception)
            {
                // Storage or ledger trouble: the checkpoint stays as it was; a later activation continues.
                LogTurnLoopFailed(exception, SessionId, turn.TurnId);
                this.DeactivateOnIdle();
                return;
            }
        }
    }

    private async Task RunTurnAsync(TurnRecord turn)
    {
        await WriteAsync(async () =>
        {
            if (_ledgerTurnId != turn.TurnId)
            {
                await BeginTurnInLedgerAsync(turn);
            }

            turn.Status = TurnStatus.Running;
            turn.Executions++;
            await state.WriteStateAsync();
        });
        LogTurnStarted(SessionId, turn.TurnId, turn.Executions, turn.StepsDone);

        // A turn gets no grain calls while it works; without this the activation would be collected as idle.
        using var keepAlive = this.RegisterGrainTimer(static () => Task.CompletedTask,
            new GrainTimerCreationOptions { DueTime = TimeSpan.FromMinutes(1), Period = TimeSpan.FromMinutes(1), KeepAlive = true });

        string? error = null;
        while (!turn.IsFinished)
        {
            AgentStepResult result;
            try
            {
                result = await agent.RunStepAsync(new AgentStep(SessionId, turn.TurnId, turn.Text, turn.StepsDone), _deactivating.Token);
            }
            catch (OperationCanceledException) when (_deactivating.IsCancellationRequested)
            {
                await WriteAsync(() =>
                {
                    turn.Status = TurnStatus.Interrupted;
                    return state.WriteStateAsync();
                });
                throw;
            }
            catch (Exception exception)
            {
                error = $"step {turn.StepsDone + 1} failed: {exception.Message}";
                LogStepFailed(exception, SessionId, turn.TurnId, turn.StepsDone + 1);
                result = new AgentStepResult((string?)null);
            }

            await WriteAsync(() =>
            {
                // The checkpoint: this step's effect is recorded, a resume continues with the next one.
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

                return state.WriteStateAsync();
            });
        }

        await WriteAsync(async () =>
        {
            var next = state.State.NextUnfinished();
            _epoch = await ledger.EndTurnAsync(SessionId, _epoch!.Value, turn.Status == TurnStatus.Completed, error, next?.TurnId)
                ?? throw new LedgerFenceException(SessionId);
            _ledgerTurnId = next?.TurnId;
        });
        LogTurnFinished(SessionId, turn.TurnId, turn.Status);
    }

    private async Task BeginTurnInLedgerAsync(TurnRecord turn)
    {
        _epoch = await ledger.BeginTurnAsync(SessionId, _epoch, localSilo.SiloAddress.ToParsableString(), turn.TurnId)
            ?? throw new LedgerFenceException(SessionId);
        _ledgerTurnId = turn.TurnId;
    }

    private async Task WriteAsync(Func<Task> write)
    {
        await _writeGate.WaitAsync();
        try
        {
            ThrowIfSuperseded();
            await write();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void ThrowIfSuperseded()
    {
        if (_superseded)
        {
            throw new LedgerFenceException(SessionId);
        }
    }

    private static bool IsSuperseded(Exception exception) => exception is LedgerFenceException or InconsistentStateException;

    private void MarkSuperseded()
    {
        // Another activation or a resume claim took the session: this one stops and writes nothing more.
        _superseded = true;
        LogSuperseded(SessionId, _epoch);
        this.DeactivateOnIdle();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} accepted message {MessageId} as turn {TurnId}")]
    private partial void LogAccepted(string sessionId, string turnId, string messageId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} turn {TurnId} started (execution {Execution}, from step {Step})")]
    private partial void LogTurnStarted(string sessionId, string turnId, int execution, int step);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} turn {TurnId} finished {Status}")]
    private partial void LogTurnFinished(string sessionId, string turnId, TurnStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} turn {TurnId} step {Step} failed")]
    private partial void LogStepFailed(Exception exception, string sessionId, string turnId, int step);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} turn {TurnId} stopped on a storage error; it continues from its checkpoint on the next activation")]
    private partial void LogTurnLoopFailed(Exception exception, string sessionId, string turnId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was taken over (this activation held epoch {Epoch}); it stops writing")]
    private partial void LogSuperseded(string sessionId, long? epoch);
}

/// <summary>A fenced ledger write matched no row: this activation no longer owns the session.</summary>
public sealed class LedgerFenceException(string sessionId)
    : Exception($"session {sessionId} is owned by a newer activation; retry the request");
