using Npgsql;

namespace OrleansGateway.Sessions;

/// <summary>
/// Rides out a short database outage (a restart, a failover) at a turn's checkpoint and at its end, rather than giving
/// the execution up: the step's work is done, and giving up would cost a resume that counts toward quarantine.
/// </summary>
/// <remarks>
/// A write whose commit was lost with its connection is safe to repeat: the grain state's ETag or the ledger's epoch then
/// fails the repeat, and the session goes the way of any moved session (it is handed to the sweepers).
/// </remarks>
internal static class StorageOutage
{
    public static readonly TimeSpan RideOut = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(2);

    public static async Task<T> RetryAsync<T>(Func<Task<T>> write, TimeProvider time, TimeSpan rideOut, Action<Exception, TimeSpan> retrying,
        CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        for (var delay = FirstDelay; ; delay = delay * 2 < LongestDelay ? delay * 2 : LongestDelay)
        {
            try
            {
                return await write();
            }
            catch (Exception exception) when (IsTransient(exception) && time.GetElapsedTime(started) + delay < rideOut && !cancellationToken.IsCancellationRequested)
            {
                retrying(exception, delay);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }

    public static Task RetryAsync(Func<Task> write, TimeProvider time, TimeSpan rideOut, Action<Exception, TimeSpan> retrying,
        CancellationToken cancellationToken) =>
        RetryAsync(async () =>
        {
            await write();
            return true;
        }, time, rideOut, retrying, cancellationToken);

    /// <summary>The database could not be reached or went away; not a refusal (a fence, a constraint) that a repeat would meet again.</summary>
    public static bool IsTransient(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            // The server shutting down or starting up (57P01-03): its restart, as a failover ends in.
            if (current is NpgsqlException { IsTransient: true } or PostgresException { SqlState: "57P01" or "57P02" or "57P03" })
            {
                return true;
            }
        }

        return false;
    }
}
