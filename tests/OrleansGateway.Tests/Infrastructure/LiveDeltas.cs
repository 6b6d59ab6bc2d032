using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Npgsql;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// The live events of every silo of a database (<see cref="TurnEvents.LiveChannel"/>), as a test listens to them: proof
/// that a model's answer was streaming when the test acted.
/// </summary>
public sealed class LiveDeltas : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly ConcurrentQueue<JsonNode> _events = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    private LiveDeltas(NpgsqlConnection connection) => _connection = connection;

    public IReadOnlyList<JsonNode> Events => [.. _events];

    public static async Task<LiveDeltas> ListenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var deltas = new LiveDeltas(connection);
        connection.Notification += (_, notification) =>
        {
            if (JsonNode.Parse(notification.Payload) is { } live)
            {
                deltas._events.Enqueue(live);
            }
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {TurnEvents.LiveChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync();
        }

        deltas._loop = deltas.WaitLoopAsync();
        return deltas;
    }

    public Task WaitForDeltaAsync(string sessionId, TimeSpan timeout) =>
        Eventually.UntilAsync(() => Task.FromResult(_events.Any(e => e["sessionId"]?.GetValue<string>() == sessionId
                && e["kind"]?.GetValue<string>() == TurnEventKinds.Delta)),
            timeout, () => $"no text of {sessionId} was streamed", pollMilliseconds: 20);

    private async Task WaitLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _connection.WaitAsync(_stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _connection.DisposeAsync();
        _stop.Dispose();
    }
}
