using Orleans.Storage;
using OrleansGateway.Storage;

namespace OrleansGateway.Sessions;

// The transcript: finished turns leave the state for the transcript table, and the history is read from both.
public sealed partial class SessionGrain
{
    /// <summary>
    /// The state as this build keeps it, after a read: without the turns the transcript has (a turn whose end committed
    /// while a crash kept the state from being written again) and with its finished turns moved to the transcript (a state
    /// of release 0.1, or one that release wrote since). True when something was moved, for the state to be written.
    /// </summary>
    private async Task<bool> SettleStateAsync()
    {
        var turns = state.State.Turns;
        var unfinished = turns.Where(turn => !turn.IsFinished).Select(turn => turn.Number()).ToList();
        if (unfinished.Count > 0)
        {
            var ended = await transcript.FinishedAmongAsync(SessionId, unfinished, _deactivating.Token);
            turns.RemoveAll(turn => ended.Contains(turn.Number()));
        }

        return await MoveFinishedAsync();
    }

    /// <summary>Appends the state's finished turns to the transcript, then forgets them: the transcript has them first.</summary>
    private async Task<bool> MoveFinishedAsync()
    {
        var finished = state.State.Finished();
        if (finished.Count == 0)
        {
            return false;
        }

        await transcript.AppendAsync(SessionId, finished.ConvertAll(turn => turn.ToFinished()), _deactivating.Token);
        state.State.Turns.RemoveAll(turn => turn.IsFinished);
        LogMovedToTranscript(SessionId, finished.Count);
        return true;
    }

    /// <summary>Activation: a state that still holds finished turns is written without them once they are in the transcript.</summary>
    private async Task SettleOnActivationAsync()
    {
        if (!await SettleStateAsync())
        {
            return;
        }

        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Written meanwhile by another activation (of release 0.1, during an upgrade): read it as it is now. Its
            // finished turns are in the transcript already or go there with the next write.
            await ReloadStateAsync();
        }
    }

    /// <summary>The newest checkpoint, read afresh (another activation may have written it), settled.</summary>
    private async Task ReloadStateAsync()
    {
        await state.ReadStateAsync();
        await SettleStateAsync();
    }

    /// <summary>Every write of the state: finished turns reach the transcript before the state forgets them.</summary>
    private async Task SaveStateAsync()
    {
        await MoveFinishedAsync();
        await state.WriteStateAsync();
    }

    /// <summary>
    /// Up to <paramref name="limit"/> turns numbered below <paramref name="beforeTurnId"/>, newest first. The state has the
    /// newest turns (the unfinished ones), the transcript every one before them. A turn in both has just ended (its end
    /// committed, the turn loop has yet to drop it from the state): the transcript's row is the one a reader of the
    /// ledger's idle row must see.
    /// </summary>
    private async Task<TurnPage> ReadTurnPageAsync(string? beforeTurnId, int limit)
    {
        var before = beforeTurnId is null ? int.MaxValue : TurnIds.Parse(beforeTurnId);
        var finished = await transcript.PageAsync(SessionId, before, limit, _deactivating.Token);
        var ended = finished.Select(turn => TurnIds.Parse(turn.TurnId)).ToHashSet();
        var page = state.State.Turns
            .Where(turn => turn.Number() < before && !ended.Contains(turn.Number()))
            .Select(turn => turn.ToView())
            .Concat(finished)
            .OrderByDescending(turn => TurnIds.Parse(turn.TurnId))
            .Take(Math.Max(limit, 0))
            .ToList();

        // Turn numbers start at 1 and are never reused: a page whose oldest turn is above t1 has older turns before it.
        var last = state.State.LastTurnNumber;
        var oldest = page.Count > 0 ? TurnIds.Parse(page[^1].TurnId) : Math.Min(before, last + 1);
        var cursor = oldest > 1 && (page.Count > 0 || limit <= 0) ? TurnIds.Format(oldest) : null;
        return new TurnPage(page, last, cursor);
    }
}
