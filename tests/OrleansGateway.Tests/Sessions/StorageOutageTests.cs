using System.Net.Sockets;
using Npgsql;
using OrleansGateway.Sessions;

namespace OrleansGateway.Tests.Sessions;

/// <summary>A checkpoint rides out a database that is briefly away, and nothing else.</summary>
public sealed class StorageOutageTests
{
    private static readonly NpgsqlException Unreachable = new("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));

    [Fact]
    public async Task A_write_that_cannot_reach_the_database_is_tried_again_until_it_can()
    {
        var attempts = 0;
        var retries = new List<TimeSpan>();

        var result = await StorageOutage.RetryAsync(() => ++attempts < 3 ? throw Unreachable : Task.FromResult("written"), TimeProvider.System,
            StorageOutage.RideOut, (_, delay) => retries.Add(delay), CancellationToken.None);

        Assert.Equal("written", result);
        Assert.Equal([TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500)], retries);
    }

    [Fact]
    public void A_server_going_down_or_coming_up_is_an_outage_and_a_constraint_is_not()
    {
        Assert.True(StorageOutage.IsTransient(new Exception("storage provider", Unreachable)));
        Assert.True(StorageOutage.IsTransient(Postgres("57P01")));
        Assert.True(StorageOutage.IsTransient(Postgres("57P03")));
        Assert.False(StorageOutage.IsTransient(Postgres("23505")));
    }

    [Fact]
    public async Task A_refusal_is_not_tried_again_and_neither_is_an_outage_longer_than_the_ride_out()
    {
        var attempts = 0;
        var fenced = new InvalidOperationException("fenced");
        Assert.Same(fenced, await Assert.ThrowsAsync<InvalidOperationException>(() =>
            StorageOutage.RetryAsync(() => ++attempts > 0 ? throw fenced : Task.FromResult(0), TimeProvider.System, StorageOutage.RideOut, (_, _) => { },
                CancellationToken.None)));
        Assert.Equal(1, attempts);

        // 250 ms, then 500 ms: the next wait of 1 s would end past a ride-out of 1 s, so the outage wins.
        var retries = new List<TimeSpan>();
        var error = await Assert.ThrowsAsync<Exception>(() => StorageOutage.RetryAsync(() => Task.FromException<int>(new Exception("wrapped", Unreachable)),
            TimeProvider.System, TimeSpan.FromSeconds(1), (_, delay) => retries.Add(delay), CancellationToken.None));
        Assert.Same(Unreachable, error.InnerException);
        Assert.Equal([TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500)], retries);
    }

    private static PostgresException Postgres(string sqlState) => new("message", "FATAL", "FATAL", sqlState);
}
