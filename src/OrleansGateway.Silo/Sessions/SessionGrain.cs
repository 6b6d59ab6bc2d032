using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansGateway.Agents;
using OrleansGateway.Resume;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;
using OrleansGateway.Telemetry;

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
    [PersistentState(GatewayStorageNames.SessionState, GatewayStorageNames.Sessions)] IPersistentState<SessionState> state,
    SessionLedger ledger,
    SessionQueries queries,
    SessionTranscript transcript,
    TurnJournal journal,
    TurnEvents turnEvents,
    LiveTurnEvents live,
    EventHistory events,
    ActiveSessions activeSessions,
    IAgent agent,
    SiloRunState runState,
    RunningTurns runningTurns,
    IOptions<SessionResumeOptions> resumeOptions,
    ILocalSiloDetails localSilo,
    TimeProvider time,
    GatewayMetrics metrics,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    // The actor of the user API's suspensions and their lifting, in the ledger and the event history.
    private const string UserActor = "user";

    // Every durable write (grain state and ledger row) goes through this gate. The background turn loop and
    // grain requests interleave at their awaits; one writer at a time keeps the ETag and the epoch fence honest.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _deactivating = new();

    private readonly SessionOwnership _ownership = new(time);

    private Task? _turnLoop;
    private CancellationTokenSource? _interrupt;
    private ResumeNote? _resume;

    // Set by an accept that wrote the turn's start with the message: the turn then starts without a write of its own.
    private string? _startedOnAccept;

    // Set by a won resume claim: how many times the claimed turn has now been started, which the claim recorded in the
    // ledger. The turn then starts without a state write of its own; its first checkpoint records the count.
    private int? _claimedStarts;
    private bool _suspending;

    // True until the first call after activation: the state was read while activating, just now.
    private bool _stateJustLoaded = true;

    private string SessionId => this.GetPrimaryKeyString();

    private string Owner => localSilo.SiloAddress.ToParsableString();

    private bool TurnLoopRunning => _turnLoop is { IsCompleted: false };

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await SettleOnActivationAsync();
        activeSessions.Activated();
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

    private void StartTurnLoop()
    {
        if (!TurnLoopRunning)
        {
            // Not awaited: the loop runs on this activation's scheduler, interleaving with requests at its awaits.
            _turnLoop = GatewaySpans.RunDetached(RunTurnsAsync);
        }
    }

    private async Task RunTurnsAsync()
    {
        // Nothing between the check and the return awaits, so a message accepted after the loop saw an empty
        // inbox finds the loop finished and starts a new one.
        while (_ownership.Owns && !_deactivating.IsCancellationRequested && state.State.NextUnfinished() is { } turn)
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
                LogSuperseded(SessionId, _ownership.Epoch);
                _ownership.Lose();
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
                    if (_ownership.Epoch is { } epoch)
                    {
                        await ledger.MarkSelfAsync(SessionId, epoch, ResumeReasons.Deactivated, stopId: null);
                    }
                }
                catch (Exception exception)
                {
                    // Left running here: this silo's sweeper finds it stranded and has it resumed.
                    LogTurnLoopFailed(exception, SessionId, turn.TurnId);
                }

                _ownership.Lose();
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
}
