using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansGateway.Agents;
using OrleansGateway.Resume;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;
using OrleansGateway.Telemetry;

namespace OrleansGateway.Sessions;

// The messages: what a new one finds in each phase, and the session as its readers see it.
public sealed partial class SessionGrain
{
    public async Task<MessageAccepted> PostMessageAsync(SessionMessage message)
    {
        _stateJustLoaded = false;
        using var span = GatewaySpans.StartAccept(SessionId, message.MessageId);
        using (await EnterWriteGateAsync())
        {
            // The transcript is asked only when it holds turns of this session: a new session's first message costs no read.
            var knownTurn = state.State.FindByMessageId(message.MessageId)?.TurnId
                ?? (state.State.HasTranscript() ? await transcript.FindByMessageIdAsync(SessionId, message.MessageId, _deactivating.Token) : null);
            if (knownTurn is not null)
            {
                return new MessageAccepted(SessionId, message.MessageId, knownTurn, Duplicate: true);
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
            metrics.RecordAccepted();
            span?.SetTag(GatewaySpans.Tags.TurnId, admission.Turn.TurnId);
            await TellAsync(TurnEventDocuments.Accepted(admission.Turn, admission.Phase, admission.Note));
            if (admission.Start)
            {
                StartTurnLoop();
            }

            return new MessageAccepted(SessionId, message.MessageId, admission.Turn.TurnId, Duplicate: false, admission.Phase, admission.Note);
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
            await SaveStateAsync();
            return new Admission(turn, SessionPhase.Running, "queued behind the running turn");
        }

        // Write-ahead: when nothing runs, the ledger says "running here" (or, on a draining silo, "resume elsewhere")
        // before the message is acknowledged, so a stop or crash from now on finds the session among those with work.
        var stop = runState.Stop;
        var sentAt = _ownership.Now();
        var epoch = await ledger.BeginTurnAsync(SessionId, _ownership.Epoch, Owner, turn.TurnId, stop?.Mark);
        if (epoch is { } taken)
        {
            _ownership.Hold(taken, sentAt);
            _suspending = false;
            _ownership.LedgerTurnId = stop is null ? turn.TurnId : null;
            if (stop is null && state.State.NextUnfinished() == turn)
            {
                // The turn starts right away: its start is written with the message, not in a write of its own.
                turn.Status = TurnStatus.Running;
                turn.Executions = 1;
                _startedOnAccept = turn.TurnId;
            }

            await SaveStateAsync();
            return stop is null
                ? new Admission(turn, SessionPhase.Running, Start: true)
                : new Admission(turn, SessionPhase.ResumePending, "queued: this silo is stopping; another silo runs it");
        }

        // Not idle: whoever takes the session next (a resume, a lifted suspension) runs the queued message, except
        // where nobody would: a stale interruption is never resumed, a quarantine waits for an operator.
        var row = await queries.GetAsync(SessionId, resumeOptions.Value.FreshnessWindow);
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
            case null or { Phase: SessionPhase.Idle }:
                // The row changed between the write-ahead and this read: another activation ended its turn (this one
                // held a stale epoch and a state that may be stale too), or the session was deleted. Stored now, the
                // message would wait in an idle session that nobody runs. Nothing is stored: the client retries (503,
                // the same messageId) and an activation that reads the session afresh takes it.
                LogAdmissionFenced(SessionId, message.MessageId, row?.Phase);
                _ownership.Lose();
                this.DeactivateOnIdle();
                throw new LedgerFenceException(SessionId);
        }

        await SaveStateAsync();
        return row!.Phase switch
        {
            SessionPhase.Suspended => new Admission(turn, SessionPhase.Suspended, "queued: the session is suspended; it runs once the suspension is lifted"),
            SessionPhase.ResumePending => new Admission(turn, SessionPhase.ResumePending, "queued: the interrupted turn resumes first"),
            var phase => new Admission(turn, phase, "queued behind the running turn"),
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
            await ReloadStateAsync();
            var turn = Enqueue(message);
            var window = resumeOptions.Value.FreshnessWindow;
            var age = await queries.MarkerAgeAsync(SessionId) ?? TimeSpan.Zero;
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
            var sentAt = _ownership.Now();
            _ownership.Hold(await ledger.BeginTurnAsync(SessionId, expectedEpoch: null, Owner, next.TurnId, stop?.Mark, new StaleTakeover(row.Epoch, window, reason))
                ?? throw new LedgerFenceException(SessionId), sentAt);
            _suspending = false;
            _ownership.LedgerTurnId = stop is null ? next.TurnId : null;
            await SaveStateAsync();
            ended = abandoned.Count == 0 ? "" : $"turn {string.Join(", ", abandoned.Select(t => t.TurnId))} {reason}; ";
            admission = stop is null
                ? new Admission(turn, SessionPhase.Running, $"{ended}the session runs again", Start: true)
                : new Admission(turn, SessionPhase.ResumePending, $"{ended}this silo is stopping; another silo runs it");
        }
        catch
        {
            // The abandoned turns are marked in memory only: a new activation reads what was really stored.
            _ownership.Lose();
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

    public async Task<SessionView?> GetAsync() => await GetNewestAsync(int.MaxValue);

    public async Task<SessionView?> GetNewestAsync(int turns)
    {
        _stateJustLoaded = false;
        var row = await queries.GetAsync(SessionId, resumeOptions.Value.FreshnessWindow);
        if (row is null && NeverWritten)
        {
            return null;
        }

        var page = await ReadTurnPageAsync(beforeTurnId: null, turns);
        var newest = page.Turns.Reverse().Select(turn => turn.WithStartsOf(row?.ActiveTurnId, row?.ActiveTurnStarts ?? 0)).ToList();
        return new SessionView(
            SessionId,
            row?.Phase ?? SessionPhase.Idle,
            row?.ResumeReason,
            row?.ResumeAttempts ?? 0,
            row?.OwnerSilo,
            newest,
            row?.ResumeMarkedAt,
            row?.Stale ?? false,
            row?.LastError,
            page.TurnCount,
            page.Before);
    }

    public async Task<TurnPage?> GetTurnPageAsync(string? beforeTurnId, int limit)
    {
        _stateJustLoaded = false;
        return NeverWritten ? null : await ReadTurnPageAsync(beforeTurnId, limit);
    }

    private bool NeverWritten => state.State.LastTurnNumber == 0 && state.State.Turns.Count == 0;
}
