using Orleans.Runtime;
using OrleansGateway.Agents;
using OrleansGateway.Resume;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;
using OrleansGateway.Telemetry;

namespace OrleansGateway.Sessions;

// One turn: its start (or its resume), its steps with their checkpoints, its end, and an interruption.
public sealed partial class SessionGrain
{
    /// <summary>Runs one turn to its end; false when the loop must stop (the silo drains).</summary>
    private async Task<bool> RunTurnAsync(TurnRecord turn)
    {
        using var span = GatewaySpans.StartTurn(SessionId, turn.TurnId, _resume?.Reason);
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
        var startedOnAccept = _startedOnAccept == turn.TurnId;
        _startedOnAccept = null;

        // Tracked before the drain check, so that a drain starting now either sees this turn or is seen by it.
        using var tracked = runningTurns.Track(SessionId, interrupt);
        if (runState.Stop is { } stop)
        {
            await WriteAsync(async () =>
            {
                if (await ledger.MarkSelfAsync(SessionId, _ownership.Held, stop.Reason, stop.StopId))
                {
                    LogDeferred(SessionId, turn.TurnId, stop.StopId);
                }

                if (claimedStarts is not null)
                {
                    await ledger.WithdrawClaimedStartAsync(SessionId, _ownership.Held);
                }
            });
            return false;
        }

        if (claimedStarts is { } starts && _ownership.LedgerTurnId == turn.TurnId)
        {
            // Resumed: the claim wrote this start to the ledger, in the statement that took the session. Writing the
            // state too would double what a restarted silo writes per resumed session before any turn runs again.
            turn.Status = TurnStatus.Running;
            turn.Executions = starts;
            await WriteAsync(() => TellAsync(TurnEventDocuments.Started(turn, _resume)));
        }
        else if (!startedOnAccept || _ownership.LedgerTurnId != turn.TurnId)
        {
            await WriteAsync(async () =>
            {
                if (_ownership.LedgerTurnId != turn.TurnId)
                {
                    var sentAt = _ownership.Now();
                    _ownership.Hold(await ledger.BeginTurnAsync(SessionId, _ownership.Epoch, Owner, turn.TurnId) ?? throw new LedgerFenceException(SessionId), sentAt);
                    _ownership.LedgerTurnId = turn.TurnId;
                }

                turn.Status = TurnStatus.Running;
                turn.Executions++;
                await SaveStateAsync();
                await TellAsync(TurnEventDocuments.Started(turn, _resume));
            });
        }

        var journaled = await ReadJournalAsync(turn);
        LogTurnStarted(SessionId, turn.TurnId, turn.Executions, turn.StepsDone);

        // A turn gets no grain calls while it works; without this the activation would be collected as idle.
        using var keepAlive = this.RegisterGrainTimer(static () => Task.CompletedTask,
            new GrainTimerCreationOptions { DueTime = TimeSpan.FromMinutes(1), Period = TimeSpan.FromMinutes(1), KeepAlive = true });

        string? error = null;
        AgentStepResult result;
        var resumedWithoutProgress = _resume is { Attempt: > 0 };
        while (true)
        {
            // Outside the step's try: losing the fence ends this execution, it does not fail the turn.
            await RefenceIfPausedAsync();
            try
            {
                var step = new AgentStep(SessionId, turn.TurnId, turn.Text, turn.StepsDone, _resume)
                {
                    Execution = $"{Owner}/{GrainContext.ActivationId}/{_ownership.Epoch}",
                    Journal = [.. journaled],
                    Output = live.ForStep(SessionId, turn.TurnId, turn.StepsDone),
                };
                live.StepStarted(SessionId, turn.TurnId, turn.StepsDone);
                using var stepSpan = GatewaySpans.StartStep(SessionId, turn.TurnId, turn.StepsDone + 1);
                result = await agent.RunStepAsync(step, interrupt.Token);
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

            if (error is not null || result.Reply is not null)
            {
                // The last step: the turn's end records it, under the same fence, with no checkpoint of its own.
                break;
            }

            await WriteAsync(async () =>
            {
                // The checkpoint: this step's effect is recorded, a resume continues with the next one. Fenced first: an
                // activation that lost the session must not overwrite its new owner's checkpoint. The step's journal
                // entry commits with the fence: from then on a resume goes on after it, whatever the state says.
                var entry = result.Record is { } record ? new JournalEntry(turn.StepsDone, record.Kind, record.Data, result.Usage) : null;
                var checkpoint = new StepCheckpoint(turn.Number(), entry, TurnEventDocuments.StepFinished(turn, turn.StepsDone, result.Record));
                var sentAt = _ownership.Now();
                if (!await RideOutAsync(() => ledger.FenceCheckpointAsync(SessionId, _ownership.Held, resumedWithoutProgress, checkpoint)))
                {
                    throw new LedgerFenceException(SessionId);
                }

                if (entry is not null)
                {
                    journaled.Add(entry);
                }

                _ownership.Confirm(sentAt);
                resumedWithoutProgress = false;
                turn.StepsDone++;
                await RideOutAsync(SaveStateAsync);
            });
        }

        var finished = turn.ToFinished() with
        {
            Status = error is null ? TurnStatus.Completed : TurnStatus.Failed,
            StepsDone = error is null ? turn.StepsDone + 1 : turn.StepsDone,
            Reply = result.Reply,
            Error = error,
            FinishedAt = time.GetUtcNow(),
            Usage = journaled.Select(entry => entry.Usage).Append(result.Usage).OfType<TokenUsage>()
                .Aggregate((TokenUsage?)null, (sum, usage) => sum is null ? usage : sum + usage),
        };
        var awaitsClaim = false;
        await WriteAsync(async () =>
        {
            // The turn's end, its record in the transcript and the next turn's start in the ledger: one fenced statement.
            // The turn stays in the state, unfinished, until that commits.
            var next = state.State.Turns.Find(queued => queued != turn && !queued.IsFinished);
            var stop = runState.Stop;
            var markers = next is not null && stop is not null ? MarkerChange.Defer
                : error is null ? MarkerChange.Clear
                : MarkerChange.Keep;
            var sentAt = _ownership.Now();
            (var epoch, awaitsClaim) = await RideOutAsync(() => ledger.EndTurnAsync(SessionId, _ownership.Held, markers, error, next?.TurnId, stop?.Mark, finished,
                TurnEventDocuments.Finished(finished)))
                ?? throw new LedgerFenceException(SessionId);
            _ownership.Hold(epoch, sentAt);
            // A premark (or crash detection) that came while the turn ran left the queued work to a claim: not run here.
            _ownership.LedgerTurnId = awaitsClaim ? null : next?.TurnId;
            state.State.Turns.Remove(turn);
            if (next is null || awaitsClaim || stop is not null)
            {
                // Else the next turn's start writes the state, without this one. Until either write, a reader of the
                // state finds this turn unfinished and the transcript finished: the transcript wins (SettleStateAsync).
                await RideOutAsync(SaveStateAsync);
            }
        });
        LogTurnFinished(SessionId, turn.TurnId, finished.Status);
        metrics.RecordFinished(completed: error is null);
        return runState.Stop is null && !awaitsClaim;
    }

    private async Task RecordInterruptionAsync(TurnRecord turn)
    {
        // Written even when this activation's own suspension took the session (the state is still its alone), but not
        // when a claim elsewhere did: the state is the new owner's then.
        await WriteAsync(requireOwnership: false, write: async () =>
        {
            if (!_suspending && (_ownership.Epoch is not { } held || !await ledger.FenceCheckpointAsync(SessionId, held, progressed: false)))
            {
                return;
            }

            turn.Status = TurnStatus.Interrupted;
            await SaveStateAsync();
            await TellAsync(TurnEventDocuments.Interrupted(turn));

            // A drain marked this session already and a suspension took it; any other interruption
            // (Orleans deactivating the grain on a silo that keeps running) must leave it to be resumed.
            if (!_suspending && !runState.IsDraining && _ownership.Epoch is { } epoch)
            {
                await ledger.MarkSelfAsync(SessionId, epoch, ResumeReasons.Deactivated, stopId: null);
            }
        });
        LogInterrupted(SessionId, turn.TurnId, turn.StepsDone);
    }
}
