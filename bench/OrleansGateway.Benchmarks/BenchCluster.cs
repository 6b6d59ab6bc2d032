using System.Diagnostics;
using System.Net;
using System.Text;
using Npgsql;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;

namespace OrleansGateway.Benchmarks;

/// <summary>The three ports of one silo; a restarted silo comes back on the same ones, as under an orchestrator.</summary>
internal sealed record SiloPorts(int Http, int Silo, int Gateway)
{
    public static SiloPorts Free() => new(BenchPostgres.FreeTcpPort(), BenchPostgres.FreeTcpPort(), BenchPostgres.FreeTcpPort());
}

/// <summary>
/// Real silo processes of one cluster (the Release build of the silo program, found by <see cref="BuiltProgram"/>),
/// the HTTP calls the benchmark makes to them, and the reads of the ledger and membership table it measures with.
/// Logs go to <see cref="LogDirectory"/> and are kept.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly List<SiloProcess> _silos = [];
    private readonly IReadOnlyDictionary<string, string> _environment;

    public BenchCluster(string connectionString, string clusterId, string logDirectory, IReadOnlyDictionary<string, string> environment)
    {
        ConnectionString = connectionString;
        ClusterId = clusterId;
        LogDirectory = logDirectory;
        _environment = environment;
        DataSource = NpgsqlDataSource.Create(connectionString);
        Directory.CreateDirectory(logDirectory);
    }

    public string ConnectionString { get; }

    public string ClusterId { get; }

    public string LogDirectory { get; }

    /// <summary>The benchmark's own connections, for measuring: never the silos' pool.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>For the sessions API: enough connections for the benchmark's parallelism.</summary>
    public static HttpClient Http { get; } = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <param name="settings">Settings of this silo only (its version, say), over the cluster's.</param>
    public SiloProcess Launch(string name, SiloPorts ports, IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>(_environment);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var silo = SiloProcess.Start(new SiloProcessSettings(name, ConnectionString, ClusterId, ports.Http, ports.Silo, ports.Gateway,
            Path.Combine(LogDirectory, $"{name}.log"))
        {
            Environment = environment,
        });
        _silos.Add(silo);
        return silo;
    }

    /// <summary>SIGTERM, as an orchestrator stops a silo, and the wait for its exit; fails after 90 s.</summary>
    public static async Task TerminateAndWaitAsync(SiloProcess silo, CancellationToken cancellationToken)
    {
        silo.Terminate();
        if (!await silo.WaitForExitAsync(TimeSpan.FromSeconds(90), cancellationToken))
        {
            throw new TimeoutException($"{silo.Settings.Name} did not stop within 90 s of SIGTERM; see {silo.Settings.LogFile}");
        }
    }

    /// <summary>
    /// Waits for <c>/readyz</c> to answer 200, probing every 10 ms (not the harness's 200 ms: this is the start of a
    /// measurement); returns the <see cref="Stopwatch"/> timestamp of the first 200.
    /// </summary>
    public static async Task<long> WaitUntilReadyAsync(SiloProcess silo, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(ReadyTimeout.TotalSeconds * Stopwatch.Frequency);
        var readyz = new Uri(silo.BaseAddress, "readyz");
        while (true)
        {
            if (silo.HasExited)
            {
                throw new InvalidOperationException($"{silo.Settings.Name} exited with code {silo.ExitCode} before it was ready; see {silo.Settings.LogFile}");
            }

            try
            {
                using var response = await Probe.GetAsync(readyz, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return Stopwatch.GetTimestamp();
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // One probe timed out.
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{silo.Settings.Name} was not ready within {ReadyTimeout.TotalSeconds:0} s; see {silo.Settings.LogFile}");
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>Posts one message to each session (message id <c>m1</c>), <paramref name="parallelism"/> at a time; every answer must be 202.</summary>
    public static async Task PostAsync(SiloProcess silo, IEnumerable<string> sessionIds, string text, int parallelism, CancellationToken cancellationToken)
    {
        var body = $$"""{"text":"{{text}}","messageId":"m1"}""";
        await Parallel.ForEachAsync(sessionIds, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (sessionId, token) =>
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await Http.PostAsync(new Uri(silo.BaseAddress, $"api/sessions/{sessionId}/messages"), content, token);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    throw new InvalidOperationException(
                        $"POST {sessionId} on {silo.Settings.Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}");
                }
            });
    }

    /// <summary>Rows of <c>gateway_sessions</c> whose id starts with <paramref name="prefix"/>, by phase and owner, for messages.</summary>
    public async Task<string> DescribeAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand("""
            SELECT coalesce(string_agg(format('%s on %s: %s', phase, coalesce(owner_silo, '-'), n), '; ' ORDER BY phase, owner_silo), 'no rows')
              FROM (SELECT phase, owner_silo, count(*) AS n FROM gateway_sessions WHERE session_id LIKE @prefix || '%' GROUP BY 1, 2) AS g
            """);
        command.Parameters.AddWithValue("prefix", prefix);
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Sessions with the prefix in <paramref name="phase"/>, optionally owned by <paramref name="owner"/>.</summary>
    public async Task<long> CountAsync(string prefix, string phase, string? owner, CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand("""
            SELECT count(*) FROM gateway_sessions
             WHERE session_id LIKE @prefix || '%' AND phase = @phase AND (@owner::text IS NULL OR owner_silo = @owner::text)
            """);
        command.Parameters.AddWithValue("prefix", prefix);
        command.Parameters.AddWithValue("phase", phase);
        command.Parameters.Add(new NpgsqlParameter("owner", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)owner ?? DBNull.Value });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Waits until <paramref name="expected"/> sessions with the prefix are in <paramref name="phase"/>; false when not within <paramref name="patience"/>.</summary>
    public async Task<bool> WaitForPhaseAsync(string prefix, string phase, long expected, TimeSpan patience, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (await CountAsync(prefix, phase, null, cancellationToken) != expected)
        {
            if (waited.Elapsed > patience)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken);
        }

        return true;
    }

    /// <summary>The membership row of the silo on <paramref name="siloPort"/> that is not Dead (the current generation), once it is there.</summary>
    public async Task<SiloRow> WaitForLiveSiloAsync(int siloPort, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var row = (await ReadSilosAsync(cancellationToken))
                .LastOrDefault(s => s.Address.Contains($":{siloPort}@", StringComparison.Ordinal) && s.Status != "Dead");
            if (row is not null)
            {
                return row;
            }

            if (attempt > 600)
            {
                throw new TimeoutException($"no live silo on port {siloPort} in the membership table of {ClusterId}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Every silo the membership table knows in this cluster, Dead ones included, oldest first.</summary>
    public Task<IReadOnlyList<SiloRow>> ReadSilosAsync(CancellationToken cancellationToken) =>
        new MembershipTable(DataSource).ReadSilosAsync(ClusterId, cancellationToken);

    /// <summary>The status the membership table records for <paramref name="address"/> (address:port@generation).</summary>
    public async Task<string?> SiloStatusAsync(string address, CancellationToken cancellationToken) =>
        (await ReadSilosAsync(cancellationToken)).FirstOrDefault(s => s.Address == address)?.Status;

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await DataSource.DisposeAsync();
    }
}
