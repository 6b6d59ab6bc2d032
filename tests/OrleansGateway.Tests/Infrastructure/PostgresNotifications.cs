using System.Collections.Concurrent;
using Npgsql;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>Every notification of some channels of a database, in the order PostgreSQL delivered them (commit order).</summary>
public sealed class PostgresNotifications : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly ConcurrentQueue<(string Channel, string Payload)> _heard = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    private PostgresNotifications(NpgsqlConnection connection) => _connection = connection;

    public IReadOnlyList<(string Channel, string Payload)> Heard => [.. _heard];

    public static async Task<PostgresNotifications> ListenAsync(string connectionString, params string[] channels)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var notifications = new PostgresNotifications(connection);
        connection.Notification += (_, n) => notifications._heard.Enqueue((n.Channel, n.Payload));
        await using (var listen = new NpgsqlCommand(string.Concat(channels.Select(channel => $"LISTEN {channel};")), connection))
        {
            await listen.ExecuteNonQueryAsync();
        }

        notifications._loop = notifications.WaitLoopAsync();
        return notifications;
    }

    /// <summary>The first <paramref name="count"/> notifications, once that many came.</summary>
    public async Task<List<(string Channel, string Payload)>> FirstAsync(int count, TimeSpan timeout)
    {
        await Eventually.UntilAsync(() => Task.FromResult(_heard.Count >= count), timeout,
            () => $"{_heard.Count} of {count} notifications came", pollMilliseconds: 20);
        return [.. _heard.Take(count)];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _connection.DisposeAsync();
        _stop.Dispose();
    }

    private async Task WaitLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _connection.WaitAsync(_stop.Token);
        }
    }
}
