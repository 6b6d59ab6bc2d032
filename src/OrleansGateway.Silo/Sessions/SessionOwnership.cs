namespace OrleansGateway.Sessions;

/// <summary>
/// What an activation holds of its session in the ledger: the epoch a fenced statement gave it or confirmed (none while
/// it does not own the session), the turn the ledger records as running for it, and when the epoch was last confirmed.
/// Every ledger write of the grain is fenced on the epoch; an activation that loses it stops and writes nothing more.
/// </summary>
internal sealed class SessionOwnership(TimeProvider time)
{
    // A confirmation older than this before a step means that the activation stood still since (SIGSTOP, a VM or GC
    // pause) and may have been declared dead meanwhile: it asks the ledger again before it starts the step.
    private static readonly TimeSpan ConfirmationGoesStaleAfter = TimeSpan.FromSeconds(1);
    private long _confirmedAt;

    public long? Epoch { get; private set; }

    /// <summary>The turn the ledger records as running for this activation; null when it records none.</summary>
    public string? LedgerTurnId { get; set; }

    public bool Owns => Epoch is not null;

    /// <summary>The epoch held; only while <see cref="Owns"/>.</summary>
    public long Held => Epoch ?? throw new InvalidOperationException("the activation does not hold its session");

    /// <summary>Whether the epoch was last confirmed long enough ago for the activation to have stood still since.</summary>
    public bool ConfirmationIsStale => time.GetElapsedTime(_confirmedAt) > ConfirmationGoesStaleAfter;

    /// <summary>
    /// The moment to pass to <see cref="Hold"/> or <see cref="Confirm"/>, taken before the fenced statement is sent: the
    /// statement proves the epoch no later than that, and a process frozen while it waited for the answer must find its
    /// confirmation stale when it wakes, not fresh.
    /// </summary>
    public long Now() => time.GetTimestamp();

    /// <summary>A fenced statement sent at <paramref name="sentAt"/> took the session, or kept it, at <paramref name="epoch"/>.</summary>
    public void Hold(long epoch, long sentAt)
    {
        Epoch = epoch;
        _confirmedAt = sentAt;
    }

    /// <summary>A fence sent at <paramref name="sentAt"/> passed: the epoch held is confirmed as of then.</summary>
    public void Confirm(long sentAt) => Hold(Held, sentAt);

    /// <summary>The session went to another activation (a claim, a suspension) or away: nothing more is written.</summary>
    public void Lose()
    {
        Epoch = null;
        LedgerTurnId = null;
    }
}
