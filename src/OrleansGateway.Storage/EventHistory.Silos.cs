using Npgsql;

namespace OrleansGateway.Storage;

// The silos' deaths: a silo writes its own silo_joined and silo_left (AppendAsync), but a death is seen by every survivor.
public sealed partial class EventHistory
{
    // The advisory lock space of the death records (ASCII "og"); the second key is the hash of the dead silo's address.
    private const int DeathLockSpace = 0x6F67;

    // Events after which a silo that is Dead in the membership left rather than died: its own silo_left, or, for a
    // release 0.1 silo (which writes no silo_left), the end of its drain. And a death already recorded.
    private static readonly string[] Departures =
        [EventKinds.SiloLeft, EventKinds.DrainFinished, EventKinds.DrainTimedOut, EventKinds.SiloDeclaredDead];

    /// <summary>
    /// Records that the cluster declared <paramref name="silo"/> (an address, as owners are written) dead, once for the
    /// whole cluster, however many sweepers see it: unless the history already says that it left or died. The check and
    /// the insert run under a transaction lock on the address, so that of racing sweepers one writes and the others find
    /// its event. True when this call wrote it.
    /// </summary>
    /// <remarks>
    /// The check reads the history without an index of silos (no schema script for it): a sweeper asks once per dead silo
    /// it sees (see the silo's <c>SiloDeaths</c>), not once per sweep.
    /// </remarks>
    public async Task<bool> AppendDeclaredDeadAsync(string silo, string siloName, string observer, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var locking = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@space, hashtext(@silo))", connection, transaction))
        {
            locking.Parameters.AddWithValue("space", DeathLockSpace);
            locking.Parameters.AddWithValue("silo", silo);
            await locking.ExecuteNonQueryAsync(cancellationToken);
        }

        // A statement after the lock: its snapshot sees the event of a sweeper that held the lock before.
        await using var insert = new NpgsqlCommand("""
            INSERT INTO gateway_events (kind, silo, detail)
            SELECT @kind, @silo, format('silo %s at %s, version %s, was declared dead by the cluster without leaving (seen by %s)',
                                        @silo_name, @silo, coalesce((SELECT version FROM gateway_silos WHERE address = @silo), @unregistered), @observer)
             WHERE NOT EXISTS (SELECT 1 FROM gateway_events WHERE silo = @silo AND kind = ANY(@departures))
            """, connection, transaction);
        insert.Parameters.AddWithValue("kind", EventKinds.SiloDeclaredDead);
        insert.Parameters.AddWithValue("silo", silo);
        insert.Parameters.AddWithValue("silo_name", siloName);
        insert.Parameters.AddWithValue("observer", observer);
        insert.Parameters.AddWithValue("unregistered", SiloRow.Unregistered);
        insert.Parameters.AddWithValue("departures", Departures);
        var written = await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
        await transaction.CommitAsync(cancellationToken);
        return written;
    }
}
