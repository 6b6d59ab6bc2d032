using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// The real dashboard program (<see cref="DashboardProcess"/>) against a test database, with two named tokens
/// (<c>operator</c> through <c>Dashboard:OperatorToken</c>, and <c>alice</c>), and HTTP helpers for its API.
/// </summary>
public sealed class DashboardHarness : IAsyncDisposable
{
    public const string OperatorToken = "test-operator-token-3f9c2a";
    public const string AliceToken = "test-alice-token-81d7e4";

    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private DashboardHarness(DashboardProcess process, string connectionString)
    {
        Process = process;
        ConnectionString = connectionString;
    }

    public DashboardProcess Process { get; }

    public string ConnectionString { get; }

    public Uri BaseAddress => Process.BaseAddress;

    /// <summary>
    /// Starts the dashboard with both tokens (or with <paramref name="environment"/> alone when <paramref name="withTokens"/>
    /// is false) and waits until it is connected to the cluster, or only until it serves when no silo is up.
    /// </summary>
    public static async Task<DashboardHarness> StartAsync(string connectionString, string clusterId, string logDirectory,
        IReadOnlyDictionary<string, string>? environment = null, bool withTokens = true, bool waitForCluster = true)
    {
        var settings = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        if (withTokens)
        {
            settings["Dashboard__OperatorTokens__alice"] = AliceToken;
        }

        var process = DashboardProcess.Start(new DashboardProcessSettings(connectionString, clusterId, PostgresFixture.FreeTcpPort(),
            Path.Combine(logDirectory, $"dashboard-{Guid.NewGuid():N}"[..20] + ".log"))
        {
            OperatorToken = withTokens ? OperatorToken : null,
            Environment = settings,
        });
        var harness = new DashboardHarness(process, connectionString);
        try
        {
            await (waitForCluster ? process.WaitUntilReadyAsync(StartTimeout) : process.WaitUntilServingAsync(StartTimeout));
            return harness;
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
    }

    public HttpClient Client(string? token = OperatorToken)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task<JsonElement> GetJsonAsync(string path, string? token = OperatorToken)
    {
        using var client = Client(token);
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A POST without a body; the status and the JSON answer (an empty object when there is none).</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string? token = OperatorToken)
    {
        using var client = Client(token);
        using var response = await client.PostAsync(path, content: null);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(body.Length > 0 ? body : "{}").RootElement.Clone());
    }

    /// <summary>The operator_action events of the audit trail, oldest first: every one committed before this call.</summary>
    public async Task<IReadOnlyList<GatewayEvent>> AuditAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        var events = new EventHistory(dataSource);

        // The feed shows an event once every transaction older than it has ended; wait until the horizon passes a
        // transaction begun now, so that everything committed before is in.
        await using var now = dataSource.CreateCommand("SELECT pg_current_xact_id()");
        var begunNow = (ulong)(await now.ExecuteScalarAsync())!;
        EventFeedPage page = null!;
        await Eventually.UntilAsync(async () => (page = await events.ReadAfterAsync(EventCursor.Start, 10_000)).Next.Transaction > begunNow,
            TimeSpan.FromSeconds(10), () => $"the feed's horizon stays at {page.Next}");
        return [.. page.Events.Where(e => e.Kind == EventKinds.OperatorAction)];
    }

    public static string SessionPath(string sessionId) => $"api/operator/sessions/{Uri.EscapeDataString(sessionId)}";

    public string Log() => Process.ReadLog();

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
