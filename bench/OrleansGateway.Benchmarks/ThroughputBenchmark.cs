using System.Diagnostics;
using System.Net;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 7. Messages per second through the HTTP API of 3 silos: 32 clients, each with a session of its own and one kept-alive
/// connection of its own (a <see cref="SocketsHttpHandler"/> each), spread round robin over the silos (client i to silo
/// i mod 3, as a load balancer pins a kept-alive connection), post echo messages (<c>hello</c>) back to back for 5 s of
/// warm-up and a 20 s window. Counted: posts accepted (202) in the
/// window, turns completed in the window (the sessions read at its start and end), then every accepted message must
/// complete (lost ones are counted). Baseline: pgbench on the same server, while the silos are idle: 32 clients doing a
/// single-row upsert for as long, in a database of its own.
/// </summary>
internal sealed class ThroughputBenchmark(BenchPostgres postgres, string logDirectory, TextWriter output)
{
    private const int Clients = 32;
    private const int Silos = 3;
    // Long enough for the silos' tiered JIT to settle: 10 to 20 s into the load of a cold silo it still compiled about
    // 500 methods a second on each silo, a fifth of the machine. A silo runs for hours; the window measures that.
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan CompletionPatience = TimeSpan.FromSeconds(120);

    public async Task<IReadOnlyList<Measurement>> RunAsync(CancellationToken cancellationToken)
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bench_throughput", cancellationToken);
        await using var cluster = new BenchCluster(connectionString, "bench-throughput", Path.Combine(logDirectory, "throughput"), new Dictionary<string, string>());
        var silos = Enumerable.Range(0, Silos).Select(i => cluster.Launch($"throughput-{i}", SiloPorts.Free())).ToList();
        foreach (var silo in silos)
        {
            await BenchCluster.WaitUntilReadyAsync(silo, cancellationToken);
        }

        // Baseline first, with the silos up and idle: a warm-up run as long as the HTTP warm-up, then the measured one.
        var pgbench = new Pgbench(postgres, Path.Combine(cluster.LogDirectory, "pgbench"));
        await pgbench.PrepareAsync(cancellationToken);
        await pgbench.RunAsync(Clients, threads: 2, WarmUp, cancellationToken);
        var upsert = await pgbench.RunAsync(Clients, threads: 2, Window, cancellationToken);
        output.WriteLine($"  pgbench upsert, {Clients} clients, {Window.TotalSeconds:0} s: {upsert.TransactionsPerSecond:0.0} tps (without connection time), " +
            $"latency average {ResultTable.Format(upsert.LatencyAverage)}, {upsert.Transactions} transactions, {upsert.Failed} failed");

        var apis = silos.Select(s => s.BaseAddress).ToArray();
        var clients = Enumerable.Range(0, Clients).Select(i => new LoadClient(i, apis)).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var windowStart = started + Ticks(WarmUp);
        var windowEnd = windowStart + Ticks(Window);
        var running = clients.Select(c => Task.Run(() => c.RunAsync(stop.Token, cancellationToken), cancellationToken)).ToList();

        await Task.Delay(Until(windowStart), cancellationToken);
        var cpuAtStart = Cpu(silos);
        var jitAtStart = await JitCompiledAsync(apis, cancellationToken);
        var commitsAtStart = await CommitsAsync(cluster, cancellationToken);
        var (atStart, startRead) = await CountCompletedAsync(apis, clients, cancellationToken);
        await Task.Delay(Until(windowEnd), cancellationToken);
        var cpu = Cpu(silos).Zip(cpuAtStart, (end, start) => end - start).ToList();
        var jit = (await JitCompiledAsync(apis, cancellationToken)).Zip(jitAtStart, (end, start) => end - start).ToList();
        var commits = await CommitsAsync(cluster, cancellationToken) - commitsAtStart;
        var (atEnd, endRead) = await CountCompletedAsync(apis, clients, cancellationToken);
        stop.Cancel();
        await Task.WhenAll(running);

        var inWindow = clients.SelectMany(c => c.Posts).Where(p => p.AcceptedAt >= windowStart && p.AcceptedAt < windowEnd).ToList();
        var acceptedPerSecond = inWindow.Count / Window.TotalSeconds;
        var completedPerSecond = (atEnd - atStart) / Window.TotalSeconds;
        var latencies = inWindow.Select(p => Stopwatch.GetElapsedTime(p.SentAt, p.AcceptedAt)).ToList();
        var retried = clients.Sum(c => c.Retries);
        output.WriteLine($"  {Clients} clients x {Silos} silos, {Window.TotalSeconds:0} s after {WarmUp.TotalSeconds:0} s of warm-up: accepted {inWindow.Count} ({acceptedPerSecond:0.0}/s), " +
            $"completed {atEnd - atStart} ({completedPerSecond:0.0}/s; sessions read in {ResultTable.Format(startRead)} at the start, {ResultTable.Format(endRead)} at the end); " +
            $"503s retried: {retried}; accept latency p50 {ResultTable.Format(Samples.Percentile(latencies, 50))}, p99 {ResultTable.Format(Samples.Percentile(latencies, 99))}, " +
            $"max {ResultTable.Format(latencies.Count == 0 ? null : latencies.Max())}");

        output.WriteLine($"  CPU time in the window ({Environment.ProcessorCount} cores x {Window.TotalSeconds:0} s = {Environment.ProcessorCount * Window.TotalSeconds:0} s): " +
            $"silos {string.Join(" + ", cpu.Take(Silos).Select(Seconds))}, PostgreSQL {Seconds(cpu[Silos])}, this load client {Seconds(cpu[Silos + 1])}");
        output.WriteLine($"  commits in the window: {commits} in the gateway's database, {(inWindow.Count == 0 ? "n/a" : $"{(double)commits / inWindow.Count:0.00}")} per accepted message " +
            "(PostgreSQL's count, which a busy server publishes up to a second late)");
        output.WriteLine($"  methods JIT-compiled in the window (after {WarmUp.TotalSeconds:0} s of warm-up): silos {string.Join(" + ", jit.Select(n => n?.ToString() ?? "n/a"))}");

        // Every accepted message must complete: wait for the queues to drain.
        var accepted = clients.Sum(c => c.Posts.Count);
        var drain = Stopwatch.StartNew();
        var (finished, failed, duplicated) = await WaitForAllAsync(apis, clients, cancellationToken);
        var lost = accepted - (finished - failed);
        output.WriteLine($"  after the window: {accepted} accepted in all, {finished - failed} completed, {failed} failed, {duplicated} turns beyond the posts " +
            $"({drain.Elapsed.TotalSeconds:0.0} s to drain, patience {CompletionPatience.TotalSeconds:0} s); the sessions hold {clients.Min(c => c.Posts.Count)} to {clients.Max(c => c.Posts.Count)} turns");

        var rate = Math.Min(acceptedPerSecond, completedPerSecond);
        var p99 = Samples.Percentile(latencies, 99);
        return
        [
            new Measurement($"throughput: msg/s, {Clients} clients on {Silos} silos (min of accepted {acceptedPerSecond:0}/s, completed {completedPerSecond:0}/s)",
                rate, upsert.TransactionsPerSecond, $"pgbench, {Clients} clients (-j 2), {Window.TotalSeconds:0} s: single-row upsert tps without connection time, silos idle",
                GoalKind.MinRatio, 0.25, null, MeasuredIn.PerSecond),
            new Measurement("throughput: accept latency p50 (post to 202)", Samples.Percentile(latencies, 50), upsert.LatencyAverage,
                "pgbench's latency average of one upsert", GoalKind.None, 0),
            new Measurement("throughput: accept latency p99 (post to 202)", p99, upsert.LatencyAverage,
                "pgbench's latency average of one upsert", GoalKind.Absolute, 0.05,
                p99 is null ? "no post accepted in the window" : null),
            new Measurement("throughput: accepted messages lost", lost, accepted, "every message accepted during the run (warm-up and window)",
                GoalKind.Absolute, 0, lost > 0 ? $"{lost} accepted messages not completed within {CompletionPatience.TotalSeconds:0} s after the window ({failed} failed)" : null,
                MeasuredIn.Count) { Comparable = false },
        ];
    }

    /// <summary>CPU time so far of each silo, then of PostgreSQL, then of this process (the clients); null where /proc does not say.</summary>
    private List<TimeSpan?> Cpu(List<LocalCluster.SiloProcess> silos) =>
        [.. silos.Select(s => CpuTime.OfProcess(s.ProcessId)), CpuTime.OfPostgres(postgres.DataDirectory), CpuTime.OfProcess(Environment.ProcessId)];

    /// <summary>Transactions committed so far in the gateway's database (pg_stat_database), every writer's.</summary>
    private static async Task<long> CommitsAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        await using var command = cluster.DataSource.CreateCommand("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Methods each silo's JIT compiled so far (the runtime's <c>dotnet.jit.compiled_methods</c> on /metrics); null where it does not say.</summary>
    private static async Task<List<long?>> JitCompiledAsync(Uri[] apis, CancellationToken cancellationToken) =>
        [.. await Task.WhenAll(apis.Select(async api =>
        {
            var metrics = await BenchCluster.Http.GetStringAsync(new Uri(api, "/metrics"), cancellationToken);
            var samples = metrics.Split('\n').Where(line => line.StartsWith("dotnet_jit_compiled_methods", StringComparison.Ordinal)).ToList();
            return samples.Count == 0 ? (long?)null : samples.Sum(line => (long)double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
        }))];

    private static string Seconds(TimeSpan? cpu) => cpu is { } value ? $"{value.TotalSeconds:0.0} s" : "n/a";

    private static TimeSpan Until(long timestamp) =>
        Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp) is { Ticks: > 0 } rest ? rest : TimeSpan.Zero;

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Completed turns of all the clients' sessions, read in parallel (each from the silo its client posts to); and how long the read took.</summary>
    private static async Task<(long Completed, TimeSpan Took)> CountCompletedAsync(Uri[] apis, List<LoadClient> clients, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var tallies = await Task.WhenAll(clients.Select(async c => (await SessionTurns.ReadAsync(BenchCluster.Http, apis[c.Index % apis.Length], c.SessionId, SessionTurns.Page, cancellationToken)).Counted(c.SessionId)));
        return (tallies.Sum(t => (long)t.Completed), Stopwatch.GetElapsedTime(start));
    }

    /// <summary>Waits until every session has finished as many turns as its client got accepted, or the patience runs out.</summary>
    private static async Task<(long Finished, long Failed, long Duplicated)> WaitForAllAsync(Uri[] apis, List<LoadClient> clients, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var tallies = await Task.WhenAll(clients.Select(async c => (await SessionTurns.ReadAsync(BenchCluster.Http, apis[c.Index % apis.Length], c.SessionId, SessionTurns.Page, cancellationToken)).Counted(c.SessionId)));
            var done = clients.Zip(tallies).All(pair => pair.Second.AllFinished && pair.Second.TurnCount >= pair.First.Posts.Count);
            if (done || deadline.Elapsed > CompletionPatience)
            {
                return (tallies.Sum(t => (long)t.Finished), tallies.Sum(t => (long)t.Failed),
                    clients.Zip(tallies).Sum(pair => (long)Math.Max(0, pair.Second.TurnCount - pair.First.Posts.Count)));
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>One user: a session, one connection to one silo, posts back to back until told to stop.</summary>
    private sealed class LoadClient(int index, Uri[] apis)
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };

        public int Index => index;

        public string SessionId { get; } = $"tp-{index:00}";

        /// <summary>Stopwatch timestamps of every accepted post; read once the client has stopped.</summary>
        public List<(long SentAt, long AcceptedAt)> Posts { get; } = [];

        public int Retries { get; private set; }

        /// <summary>Posts until <paramref name="stop"/>; a post in flight then is finished (it may be stored), not abandoned.</summary>
        public async Task RunAsync(CancellationToken stop, CancellationToken cancellationToken)
        {
            using (_http)
            {
                var api = apis[index % apis.Length];
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var messageId = $"m-{n}";
                    while (true)
                    {
                        var sent = Stopwatch.GetTimestamp();
                        var status = await SessionMessages.TryPostAsync(_http, api, SessionId, messageId, "hello", cancellationToken);
                        if (status == HttpStatusCode.Accepted)
                        {
                            Posts.Add((sent, Stopwatch.GetTimestamp()));
                            break;
                        }

                        // 503: the same message id again, as a user would; it starts nothing twice.
                        Retries++;
                        await Task.Delay(50, cancellationToken);
                    }
                }
            }
        }
    }
}
