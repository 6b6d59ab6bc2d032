using System.Text.Json.Nodes;
using Npgsql;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// The live events of every silo of a database (<see cref="TurnEvents.LiveChannel"/>), as a test listens to them: proof
/// that a model's answer was streaming when the test acted. It watches its sessions as a silo that streams them would:
/// silos send live events only of watched sessions.
/// </summary>
public sealed class LiveDeltas : IAsyncDisposable
{
    private readonly PostgresNotifications _notifications;

    private LiveDeltas(PostgresNotifications notifications) => _notifications = notifications;

    public IReadOnlyList<JsonNode> Events => [.. _notifications.Heard.Select(n => JsonNode.Parse(n.Payload)).OfType<JsonNode>()];

    public static async Task<LiveDeltas> ListenAsync(string connectionString, params string[] sessionIds)
    {
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            var watchers = new StreamWatchers(dataSource);
            foreach (var sessionId in sessionIds)
            {
                await watchers.WatchAsync(sessionId, "test-listener", TimeSpan.FromHours(1));
            }
        }

        return new LiveDeltas(await PostgresNotifications.ListenAsync(connectionString, TurnEvents.LiveChannel));
    }

    public Task WaitForDeltaAsync(string sessionId, TimeSpan timeout) =>
        Eventually.UntilAsync(() => Task.FromResult(Events.Any(e => e["sessionId"]?.GetValue<string>() == sessionId
                && e["kind"]?.GetValue<string>() == TurnEventKinds.Delta)),
            timeout, () => $"no text of {sessionId} was streamed", pollMilliseconds: 20);

    public ValueTask DisposeAsync() => _notifications.DisposeAsync();
}
