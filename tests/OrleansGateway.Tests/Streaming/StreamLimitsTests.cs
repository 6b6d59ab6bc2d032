using System.Net.Http.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Streaming;

/// <summary>What the streams keep and for how long: a client that does not read is let go, stored events are pruned.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StreamLimitsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_client_that_reads_nothing_while_live_events_pour_in_is_disconnected_rather_than_buffered_for()
    {
        await using var cluster = await HttpSiloCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("stream_slow"), silos: 1,
            new Dictionary<string, string?> { ["Gateway:Stream:QueueCapacity"] = "16" });
        using (var client = cluster.ClientFor(0))
        {
            (await client.PostAsJsonAsync("api/sessions/slow/messages", new { text = "hello", messageId = "m1" })).EnsureSuccessStatusCode();
        }

        var registry = cluster.Service<SessionStreamRegistry>(0);
        using var http = new HttpClient();
        using var stalled = await SessionStreamClient.ConnectAsync(http, cluster.Addresses[0], "slow", lastEventId: null, CancellationToken.None);
        Assert.Equal(1, registry.CountOf("slow"));

        // Far more than the socket buffers hold: the silo's writes stall, its queue fills, and the next live event ends the stream.
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using (var flood = dataSource.CreateCommand($"""
            SELECT count(pg_notify('{TurnEvents.LiveChannel}', json_build_object('sessionId', 'slow', 'turnId', 't9', 'kind', 'delta', 'step', n,
                   'text', repeat('x', 6000))::text))
              FROM generate_series(1, 3000) AS n
            """))
        {
            await flood.ExecuteScalarAsync();
        }

        await Eventually.UntilAsync(() => Task.FromResult(registry.CountOf("slow") == 0), TimeSpan.FromSeconds(30),
            () => "the stalled client is still registered");
    }

    [Fact]
    public async Task Stored_stream_events_older_than_the_retention_are_pruned_by_the_silos()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("stream_prune");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var events = new TurnEvents(dataSource);
        for (var i = 0; i < 5; i++)
        {
            await events.AppendAsync("old", new TurnEventDraft(TurnEventKinds.StepFinished, 1, $$"""{"step":{{i}}}"""));
        }

        await using (var age = dataSource.CreateCommand("UPDATE gateway_turn_events SET at = now() - interval '2 days' WHERE data->>'step' IN ('0', '1', '2')"))
        {
            await age.ExecuteNonQueryAsync();
        }

        Assert.Equal(3, await events.PruneAsync(DateTimeOffset.UtcNow.AddDays(-1), batchSize: 2));
        Assert.Equal(["3", "4"], (await events.ReadAfterAsync("old", 0, 10)).Select(e => JsonStep(e.Data)));

        // The silos' pruner does it on its own, every Gateway:Events:PruneInterval, after Gateway:Stream:Retention.
        await using var cluster = await HttpSiloCluster.StartAsync(connectionString, silos: 1, new Dictionary<string, string?>
        {
            ["Gateway:Stream:Retention"] = "00:00:01",
            ["Gateway:Events:PruneInterval"] = "00:00:01",
        });
        await Eventually.UntilAsync(async () => (await events.ReadAfterAsync("old", 0, 10)).Count == 0, TimeSpan.FromSeconds(20),
            () => "the stream events were not pruned");
    }

    private static string JsonStep(string data) => System.Text.Json.JsonElement.Parse(data).GetProperty("step").GetRawText();
}
