using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansGateway.LocalCluster;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Http;

/// <summary>
/// A session's newest turns with <c>GET /api/sessions/{id}?turns=</c>, and its whole history a page at a time with
/// <c>GET /api/sessions/{id}/turns?before=&amp;limit=</c>: every turn once, in order, through the cursor.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TurnPagingTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const int Turns = 45;
    private SiloProcessCluster _cluster = null!;
    private HttpClient _client = null!;
    private SiloProcess _silo = null!;

    public async Task InitializeAsync()
    {
        _cluster = new SiloProcessCluster(await postgres.CreateMigratedDatabaseAsync("paging"));
        _silo = await _cluster.StartSiloAsync("paging");
        _client = SiloProcessCluster.ClientFor(_silo);
        for (var number = 1; number <= Turns; number++)
        {
            using var posted = await _client.PostAsJsonAsync("api/sessions/paged/messages", new { text = $"hello {number}", messageId = $"m{number}" });
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        JsonElement session = default;
        await Eventually.UntilAsync(async () =>
            {
                session = await GetAsync("api/sessions/paged?turns=1");
                return session.GetProperty("phase").GetString() == "idle";
            },
            TimeSpan.FromSeconds(60), () => session.ToString());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_session_reads_with_its_newest_20_turns_oldest_first_its_turn_count_and_the_cursor_of_the_rest()
    {
        var session = await GetAsync("api/sessions/paged");

        Assert.Equal(Range(26, 45), TurnIds(session.GetProperty("turns")));
        Assert.Equal((45, "t26"), (session.GetProperty("turnCount").GetInt32(), session.GetProperty("turnsBefore").GetString()));
        Assert.Equal("hello 45", session.GetProperty("turns")[19].GetProperty("reply").GetString());
    }

    [Fact]
    public async Task Turns_0_gives_the_count_alone_and_500_every_turn_without_a_cursor()
    {
        var none = await GetAsync("api/sessions/paged?turns=0");
        var all = await GetAsync("api/sessions/paged?turns=500");

        Assert.Equal((0, 45), (none.GetProperty("turns").GetArrayLength(), none.GetProperty("turnCount").GetInt32()));
        Assert.NotNull(none.GetProperty("turnsBefore").GetString());
        Assert.Equal(Range(1, 45), TurnIds(all.GetProperty("turns")));
        Assert.Equal(JsonValueKind.Null, all.GetProperty("turnsBefore").ValueKind);
    }

    [Fact]
    public async Task Paging_back_through_the_cursor_gives_every_turn_exactly_once_newest_first()
    {
        var first = await GetAsync("api/sessions/paged/turns");
        Assert.Equal(["sessionId", "turns", "turnCount", "before"], first.EnumerateObject().Select(property => property.Name));
        Assert.Equal(Range(26, 45).Reverse(), TurnIds(first.GetProperty("turns")));

        // From the newest page of the session's read on, as a client scrolling back does.
        var session = await GetAsync("api/sessions/paged?turns=5");
        var seen = Enumerable.Reverse(TurnIds(session.GetProperty("turns"))).ToList();
        var replies = session.GetProperty("turns").EnumerateArray().Select(turn => turn.GetProperty("reply").GetString()).Reverse().ToList();
        var pages = 0;
        for (var before = session.GetProperty("turnsBefore").GetString(); before is not null; pages++)
        {
            var page = await GetAsync($"api/sessions/paged/turns?before={before}&limit=7");
            Assert.Equal(45, page.GetProperty("turnCount").GetInt32());
            seen.AddRange(TurnIds(page.GetProperty("turns")));
            replies.AddRange(page.GetProperty("turns").EnumerateArray().Select(turn => turn.GetProperty("reply").GetString()));
            before = page.GetProperty("before").GetString();
        }

        Assert.Equal(Range(1, 45).Reverse(), seen);
        Assert.Equal(Enumerable.Range(1, 45).Reverse().Select(n => $"hello {n}"), replies);
        Assert.Equal(6, pages); // 40 older turns, 7 a page
    }

    [Fact]
    public async Task The_demos_read_a_whole_session_or_the_turns_they_follow_through_the_cursor()
    {
        using var api = new GatewayApi();

        var whole = (await api.TryGetSessionAsync(_silo.BaseAddress, "paged", TimeSpan.FromSeconds(30), CancellationToken.None))!.Session!;
        var followed = (await api.TryGetSessionFromTurnAsync(_silo.BaseAddress, "paged", 30, TimeSpan.FromSeconds(30), CancellationToken.None))!.Session!;
        var newest = (await api.TryGetSessionWithNewestAsync(_silo.BaseAddress, "paged", 1, TimeSpan.FromSeconds(30), CancellationToken.None))!.Session!;
        var unknown = await api.TryGetSessionAsync(_silo.BaseAddress, "nobody-here", TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal(Range(1, 45), whole.Turns.Select(turn => turn.TurnId));
        Assert.Equal((45, null), (whole.TurnCount, whole.TurnsBefore));
        Assert.Equal(Range(26, 45), followed.Turns.Select(turn => turn.TurnId)); // the newest page holds t30 already
        Assert.Equal(["t45"], newest.Turns.Select(turn => turn.TurnId));
        Assert.Equal("t45", newest.TurnsBefore);
        Assert.Null(unknown!.Session);
    }

    [Fact]
    public async Task The_turns_of_an_unknown_session_are_404_and_of_a_malformed_id_400()
    {
        using var unknown = await _client.GetAsync("api/sessions/nobody-here/turns");
        using var malformed = await _client.GetAsync($"api/sessions/{Uri.EscapeDataString("not valid!")}/turns");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("session nobody-here does not exist", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    private async Task<JsonElement> GetAsync(string path)
    {
        using var response = await _client.GetAsync(path);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    private static IEnumerable<string> Range(int first, int last) => Enumerable.Range(first, last - first + 1).Select(n => $"t{n}");

    private static List<string> TurnIds(JsonElement turns) => [.. turns.EnumerateArray().Select(turn => turn.GetProperty("turnId").GetString()!)];
}
