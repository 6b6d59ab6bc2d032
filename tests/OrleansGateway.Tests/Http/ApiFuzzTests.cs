using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using OrleansGateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansGateway.Tests.Http;

/// <summary>
/// Thousands of generated bad requests (<see cref="FuzzTargets"/>) against real silos and the dashboard: each is
/// refused with a 4xx problem that has an <c>error</c> and no trace of an exception, none writes anything, and the
/// cluster serves as before. Seeded; the seed is printed, and OGW_FUZZ_SEED replays a run.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ApiFuzzTests(PostgresFixture postgres, ITestOutputHelper output)
{
    public const string SeedVariable = "OGW_FUZZ_SEED";
    private const int SiloRequests = 1300;
    private const int DashboardRequests = 900;
    private const int Parallelism = 8;
    private const string ClientKey = "fuzz-client-key-0123456789";
    private const string OtherClientKey = "other-client-key-0123456789";

    [Fact]
    public async Task Generated_bad_requests_are_refused_with_problems_and_write_nothing()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var given) ? given : Random.Shared.Next();
        output.WriteLine($"fuzz seed {seed}: replay with {SeedVariable}={seed}");
        await using var silos = await HttpSiloCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("fuzz"), silos: 2, new Dictionary<string, string?>
        {
            ["Gateway:Clients:fuzz:Key"] = ClientKey,
            ["Gateway:Clients:other:Key"] = OtherClientKey,
            // Every request is to reach its route; the limits have a test of their own.
            ["Gateway:RateLimit:RequestsPerSecond"] = "1000000",
            ["Gateway:RateLimit:Burst"] = "1000000",
        });
        await using var dashboard = await DashboardHarness.StartAsync(silos.ConnectionString, silos.ClusterId, Path.GetTempPath());
        using var siloClients = new ClientPair(silos.ClientFor(0), silos.ClientFor(1));
        using var dashboardClient = dashboard.Client(token: null);

        // A session that exists, so that the state compared below is not only empty tables.
        await PostMessageAndWaitAsync(siloClients.First, FuzzTargets.RealSession);
        var before = await DatabaseFingerprint.ReadAsync(silos.ConnectionString);

        var bad = new BadRequests(new Random(seed));
        var requests = new List<(HttpClient Client, FuzzRequest Request)>();
        for (var i = 0; i < SiloRequests + DashboardRequests; i++)
        {
            requests.Add(i < SiloRequests
                ? (bad.Random.Next(2) == 0 ? siloClients.First : siloClients.Second, FuzzTargets.Silo(bad, ClientKey, OtherClientKey))
                : (dashboardClient, FuzzTargets.Dashboard(bad, DashboardHarness.OperatorToken)));
        }

        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (item, _) =>
        {
            var (status, failure) = await CheckAsync(item.Client, item.Request);
            statuses.AddOrUpdate(status, 1, (_, count) => count + 1);
            if (failure is not null)
            {
                failures.Enqueue($"{item.Request}: {failure}");
            }
        });
        output.WriteLine($"answers: {string.Join(", ", statuses.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key} x{pair.Value}"))}");
        Assert.True(failures.IsEmpty,
            $"{failures.Count} of {requests.Count} requests were not refused well (seed {seed}):{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(20))}");

        Assert.Equal(before, await DatabaseFingerprint.ReadAsync(silos.ConnectionString));
        Assert.Equal(0L, await CountGhostSessionsAsync(silos.ConnectionString));

        // Still serving: ready everywhere, and a message still runs its turn to the end.
        foreach (var client in new[] { siloClients.First, siloClients.Second, dashboardClient })
        {
            using var ready = await client.GetAsync("readyz");
            Assert.True(ready.StatusCode == HttpStatusCode.OK, $"{client.BaseAddress}readyz: {(int)ready.StatusCode}");
        }

        await PostMessageAndWaitAsync(siloClients.Second, "fz-after");
    }

    /// <summary>The status, and null when the request was refused as it should be, else what was wrong with the answer.</summary>
    private static async Task<(int Status, string? Failure)> CheckAsync(HttpClient client, FuzzRequest fuzz)
    {
        using var request = new HttpRequestMessage(new HttpMethod(fuzz.Method), fuzz.Path);
        if (fuzz.Body is not null)
        {
            request.Content = new ByteArrayContent(fuzz.Body);
            request.Content.Headers.ContentType = fuzz.ContentType is null ? null : MediaTypeHeaderValue.Parse(fuzz.ContentType);
        }

        foreach (var (name, value) in fuzz.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        return (status, Judge(fuzz, response, status, body));
    }

    private static string? Judge(FuzzRequest fuzz, HttpResponseMessage response, int status, string body)
    {
        if (status is < 400 or >= 500)
        {
            return $"answered {status}, not a refusal: {Shorten(body)}";
        }

        if (StackTrace().IsMatch(body))
        {
            return $"the body shows an exception: {Shorten(body)}";
        }

        // A HEAD's answer has no body to check.
        if (fuzz.Method == "HEAD")
        {
            return null;
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"{status} as {response.Content.Headers.ContentType?.MediaType ?? "no content type"}: {Shorten(body)}";
        }

        using var problem = JsonDocument.Parse(body);
        var root = problem.RootElement;
        return root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String && error.GetString()!.Length > 0
               && root.TryGetProperty("status", out var statusMember) && statusMember.GetInt32() == status
               && root.TryGetProperty("detail", out _) && root.TryGetProperty("traceId", out _)
            ? null
            : $"{status}: not a problem with error, status, detail and traceId: {Shorten(body)}";
    }

    private static async Task PostMessageAndWaitAsync(HttpClient silo, string sessionId)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, $"api/sessions/{sessionId}/messages") { Content = JsonContent.Create(new { text = "work 1x10" }) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey);
        using var posted = await silo.SendAsync(post);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        await Eventually.UntilAsync(async () =>
        {
            using var read = new HttpRequestMessage(HttpMethod.Get, $"api/sessions/{sessionId}");
            read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey);
            using var answer = await silo.SendAsync(read);
            var session = await answer.Content.ReadFromJsonAsync<JsonElement>();
            return session.GetProperty("turns").EnumerateArray().Any(turn => turn.GetProperty("status").GetString() == "completed");
        }, TimeSpan.FromSeconds(30), () => $"the turn of {sessionId} does not complete");
    }

    private static async Task<long> CountGhostSessionsAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM gateway_sessions WHERE session_id LIKE @prefix");
        command.Parameters.AddWithValue("prefix", BadRequests.GhostPrefix + "%");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : $"{text[..300]}...";

    // A frame of a .NET stack trace, or the name of an exception type.
    [GeneratedRegex(@"\bat [\w.`<>]+\(|\w+Exception\b|   at ")]
    private static partial Regex StackTrace();

    private sealed class ClientPair(HttpClient first, HttpClient second) : IDisposable
    {
        public HttpClient First { get; } = first;

        public HttpClient Second { get; } = second;

        public void Dispose()
        {
            First.Dispose();
            Second.Dispose();
        }
    }
}
