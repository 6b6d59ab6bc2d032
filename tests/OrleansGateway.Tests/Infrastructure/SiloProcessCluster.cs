using System.Net.Http.Json;
using System.Text.Json;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// Silos as separate processes of the real silo program, on free ports, for the scenarios an in-process
/// cluster cannot play: SIGTERM, SIGKILL (no shutdown code runs), restart. Logs land in a temp folder and
/// are attached to a failing assertion by <see cref="Logs"/>.
/// </summary>
public sealed class SiloProcessCluster : IAsyncDisposable
{
    private readonly string _connectionString;

    public SiloProcessCluster(string connectionString)
    {
        _connectionString = connectionString;
        // Kept after the run, beside the test binaries: the first thing to read when a cluster test fails.
        _logDirectory = Path.Combine(AppContext.BaseDirectory, "silo-logs", _clusterId);
        Directory.CreateDirectory(_logDirectory);
    }

    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The official Orleans dashboard's collector costs a silo process a second or more of CPU at start; only the tests
    /// that look at the Orleans dashboard turn it back on (<see cref="WithOrleansDashboard"/>), the suite starts many silos.
    /// </summary>
    private static readonly Dictionary<string, string> WithoutOrleansDashboard = new() { ["Gateway__OrleansDashboard"] = "false" };

    /// <summary>The silos' default setting (on), for tests that show the Orleans dashboard.</summary>
    public static readonly IReadOnlyDictionary<string, string> WithOrleansDashboard = new Dictionary<string, string> { ["Gateway__OrleansDashboard"] = "true" };
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}"[..16];
    private readonly string _logDirectory;
    private readonly List<SiloProcess> _all = [];

    public string ConnectionString => _connectionString;

    /// <summary>The Orleans cluster id of these silos, for clients of the cluster (the dashboard).</summary>
    public string ClusterId => _clusterId;

    /// <summary>Where the logs of this cluster's processes go.</summary>
    public string LogDirectory => _logDirectory;

    /// <summary>
    /// Starts a silo process (fresh ports) and waits until it is ready; <paramref name="siloAssembly"/> runs another
    /// release's silo instead of this build's.
    /// </summary>
    public async Task<SiloProcess> StartSiloAsync(string name, IReadOnlyDictionary<string, string>? environment = null, string? siloAssembly = null)
    {
        var silo = Launch(name, environment, siloAssembly: siloAssembly);
        await silo.WaitUntilReadyAsync(ReadyTimeout);
        return silo;
    }

    /// <summary>Starts a silo process without waiting for it.</summary>
    public SiloProcess Launch(string name, IReadOnlyDictionary<string, string>? environment = null, string? connectionStringOverride = null,
        string? siloAssembly = null)
    {
        var silo = SiloProcess.Start(new SiloProcessSettings(
            name,
            connectionStringOverride ?? _connectionString,
            _clusterId,
            PostgresFixture.FreeTcpPort(),
            PostgresFixture.FreeTcpPort(),
            PostgresFixture.FreeTcpPort(),
            Path.Combine(_logDirectory, $"{name}-{_all.Count}.log"))
        {
            Environment = LocalClusterHost.FastFailureDetection.Concat(WithoutOrleansDashboard).Concat(environment ?? new Dictionary<string, string>())
                .GroupBy(pair => pair.Key).ToDictionary(group => group.Key, group => group.Last().Value),
            SiloAssembly = siloAssembly ?? BuiltProgram.Silo,
        });
        _all.Add(silo);
        return silo;
    }

    public static HttpClient ClientFor(SiloProcess silo) => new() { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<HttpResponseMessage> PostMessageAsync(SiloProcess silo, string sessionId, object body)
    {
        using var client = ClientFor(silo);
        return await client.PostAsJsonAsync($"api/sessions/{Uri.EscapeDataString(sessionId)}/messages", body);
    }

    /// <summary>
    /// The session as <c>GET /api/sessions/{id}?turns=500</c> returns it (every turn of a test's session; a silo of
    /// release 0.1 gives every turn anyway), or null (404, or the silo did not answer).
    /// </summary>
    public static async Task<JsonElement?> GetSessionAsync(SiloProcess silo, string sessionId)
    {
        try
        {
            using var client = ClientFor(silo);
            using var response = await client.GetAsync($"api/sessions/{Uri.EscapeDataString(sessionId)}?turns=500");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>How many lines of all silo logs of this cluster contain <paramref name="text"/>.</summary>
    public int CountLogLines(string text) =>
        _all.Sum(silo => silo.ReadLog().Split('\n').Count(line => line.Contains(text, StringComparison.Ordinal)));

    /// <summary>Every silo's log, for a failure message.</summary>
    public string Logs() => string.Join("\n", _all.Select(s => $"--- {s.Settings.Name} ---\n{Tail(s.ReadLog(), 40)}"));

    public async ValueTask DisposeAsync()
    {
        // Every process goes, also when disposing one fails: a silo left behind would outlive the test run.
        var failures = new List<Exception>();
        foreach (var silo in _all)
        {
            try
            {
                await silo.DisposeAsync();
            }
            catch (Exception exception)
            {
                failures.Add(exception);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException(failures);
        }
    }

    private static string Tail(string text, int lines) => string.Join("\n", text.Split('\n').TakeLast(lines));
}
