using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Cli.Demo;

/// <summary>
/// Time to resume for one stopped silo: from the signal that took its turns away (the SIGKILL, or the SIGTERM when
/// the silo drains and exits by itself) until every turn it was running runs again on another silo (or on the
/// restarted one, a new generation) or has completed. Fed by the ledger polls of <see cref="SessionWatch"/>.
/// </summary>
/// <param name="ownerBySession">The sessions the silo was running just before its SIGTERM, each with the owner the ledger named.</param>
public sealed class ResumeClock(string silo, IReadOnlyDictionary<string, string> ownerBySession)
{
    private readonly Lock _gate = new();
    private TimeSpan? _from;
    private TimeSpan? _took;

    public string Silo => silo;

    /// <summary>Turns the silo was running when it was stopped.</summary>
    public int Turns => ownerBySession.Count;

    /// <summary>Null while waiting, when the silo ran nothing, or when its turns never all ran again.</summary>
    public TimeSpan? Took
    {
        get
        {
            lock (_gate)
            {
                return _took;
            }
        }
    }

    public void StartAt(TimeSpan from)
    {
        lock (_gate)
        {
            _from ??= from;
        }
    }

    public void Observe(IReadOnlyDictionary<string, LedgerRow> rows, TimeSpan now)
    {
        lock (_gate)
        {
            if (_from is not { } from || _took is not null || ownerBySession.Count == 0)
            {
                return;
            }

            if (ownerBySession.All(session => rows.TryGetValue(session.Key, out var row) && MovedOn(row, session.Value)))
            {
                _took = now > from ? now - from : TimeSpan.Zero;
            }
        }
    }

    private static bool MovedOn(LedgerRow row, string stoppedOwner) =>
        row.Phase == SessionPhase.Idle || row.Phase == SessionPhase.Running && row.OwnerSilo != stoppedOwner;
}
