using System.Net;
using System.Text.Json;
using Npgsql;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Streaming;

/// <summary>
/// A stream outlives the silo that runs its session: real silo processes, a client on one silo, the session's silo
/// stopped mid-turn. The one real-process scenario of the streams (they are slow); the rest run in this process.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StreamAcrossRestartTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_client_on_another_silo_sees_the_turn_interrupted_resumed_and_completed_with_no_event_missing_or_repeated()
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("stream_restart");
        await using var cluster = new SiloProcessCluster(connectionString);
        var settings = new Dictionary<string, string> { ["Gateway__Resume__DrainTimeout"] = "00:00:01", ["Gateway__Resume__InterruptGrace"] = "00:00:01" };
        var owner = await cluster.StartSiloAsync("owner", settings);
        var watcher = await cluster.StartSiloAsync("watcher", settings);
        using (var posted = await SiloProcessCluster.PostMessageAsync(owner, "moving", new { text = "work 10x500", messageId = "m1" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        var recordings = new List<StreamRecording> { await StreamRecording.OpenAsync(watcher.BaseAddress, "moving", lastEventId: 0) };
        try
        {
            await recordings[0].WaitForAsync(_ => recordings[0].Events.Count(e => e.Event == "step_finished") >= 2, "two steps on the owner");
            owner.Terminate();
            Assert.True(await owner.WaitForExitAsync(TimeSpan.FromSeconds(60)), cluster.Logs());

            // As a client does: whenever the stream ends, open it again after the last stored event seen.
            await Eventually.UntilAsync(async () =>
                {
                    var stored = recordings.SelectMany(r => r.Stored).ToList();
                    if (stored.Any(e => e.Event == "completed"))
                    {
                        return true;
                    }

                    if (recordings[^1].Ended)
                    {
                        recordings.Add(await StreamRecording.OpenAsync(watcher.BaseAddress, "moving", stored[^1].Id));
                    }

                    return false;
                },
                TimeSpan.FromSeconds(120), () => $"{string.Join("\n--\n", recordings.Select(r => r.Describe()))}\n{cluster.Logs()}");

            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var written = await new TurnEvents(dataSource).ReadAfterAsync("moving", 0, 1000);
            var seen = recordings.SelectMany(r => r.Stored).ToList();
            Assert.Equal(written.Select(e => (long?)e.Id), seen.Select(e => e.Id));
            var kinds = seen.Select(e => e.Event).ToList();
            Assert.True(kinds.IndexOf("interrupted") is > 0 and var interrupted && kinds.IndexOf("resumed") > interrupted, string.Join(", ", kinds));
            Assert.Equal("completed", kinds[^1]);
            // Every checkpointed step once, whichever silo ran it; the tenth is the completion.
            Assert.Equal(Enumerable.Range(0, 9), seen.Where(e => e.Event == "step_finished").Select(e => JsonElement.Parse(e.Data).GetProperty("step").GetInt32()));
        }
        finally
        {
            foreach (var recording in recordings)
            {
                await recording.DisposeAsync();
            }
        }
    }
}
