using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansGateway.LocalCluster;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Cluster;

/// <summary>The multi-process harness itself: real silo processes, real signals.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SiloProcessTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Two_silo_processes_serve_a_session_stop_on_SIGTERM_and_a_SIGKILLed_one_restarts()
    {
        await using var cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("procs"));
        var first = await cluster.StartSiloAsync("first");
        var second = await cluster.StartSiloAsync("second");

        using (var posted = await SiloProcessCluster.PostMessageAsync(first, "smoke", new { text = "work 2x100", messageId = "m1" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        // Any silo answers for any session.
        var session = await WaitForReplyAsync(second, "smoke", cluster);
        Assert.Equal("done 2 steps", session.GetProperty("turns")[0].GetProperty("reply").GetString());

        // SIGKILL: the process ends at once, with no graceful shutdown.
        second.Kill();
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(10)), "SIGKILL did not end the process");
        Assert.NotEqual(0, second.ExitCode);
        Assert.DoesNotContain("Application is shutting down", second.ReadLog());

        // SIGTERM: a graceful stop that exits 0. While it drains a running turn, the silo still answers HTTP, and
        // /readyz says 503 so that a load balancer sends nothing new.
        // Posted as clients should: right after the SIGKILL the cluster may still be settling (503), and a retry with the
        // same messageId starts nothing twice.
        var status = HttpStatusCode.ServiceUnavailable;
        for (var attempt = 0; attempt < 10 && status == HttpStatusCode.ServiceUnavailable; attempt++)
        {
            using var posted = await SiloProcessCluster.PostMessageAsync(first, "draining", new { text = "work 8x500", messageId = "m1" });
            status = posted.StatusCode;
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }

        Assert.Equal(HttpStatusCode.Accepted, status);

        await Task.Delay(TimeSpan.FromSeconds(1));
        first.Terminate();
        using (var probe = SiloProcessCluster.ClientFor(first))
        {
            var seen = new List<string>();
            await Eventually.UntilAsync(async () =>
                {
                    try
                    {
                        using var ready = await probe.GetAsync("readyz");
                        seen.Add($"{(int)ready.StatusCode}");
                        return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
                    }
                    catch (HttpRequestException exception)
                    {
                        seen.Add(exception.Message);
                        return false;
                    }
                },
                TimeSpan.FromSeconds(5), () => $"/readyz during the drain: {string.Join(", ", seen)}\n{first.ReadLog()}", pollMilliseconds: 50);
        }

        Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"SIGTERM did not stop the silo\n{cluster.Logs()}");
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("Application is shutting down", first.ReadLog());

        // A restart finds the session where the cluster left it.
        var restarted = await cluster.StartSiloAsync("restarted");
        var again = await WaitForReplyAsync(restarted, "smoke", cluster);
        Assert.Equal(1, again.GetProperty("turns")[0].GetProperty("executions").GetInt32());
    }

    private static async Task<JsonElement> WaitForReplyAsync(SiloProcess silo, string sessionId, SiloProcessCluster cluster)
    {
        using var client = SiloProcessCluster.ClientFor(silo);
        var session = default(JsonElement);
        await Eventually.UntilAsync(async () =>
            {
                using var response = await client.GetAsync($"api/sessions/{sessionId}");
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return false;
                }

                session = await response.Content.ReadFromJsonAsync<JsonElement>();
                return session.GetProperty("phase").GetString() == "idle";
            },
            TimeSpan.FromSeconds(60),
            () => $"{sessionId}: {session}\n{cluster.Logs()}");
        return session;
    }
}
