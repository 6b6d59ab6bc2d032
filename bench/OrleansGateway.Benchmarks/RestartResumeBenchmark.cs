using System.Diagnostics;
using System.Net;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 2. A restart with 1000 sessions mid-turn. Silo A takes 1000 messages <c>work 1x600000</c> (one 10-minute step each)
/// and 1000 messages <c>hello</c> (echoed at once, so those sessions end idle), then gets SIGTERM with a 1 s drain: the
/// premark makes the 1000 long sessions resume_pending (<c>restart_timeout</c>) and their turns are interrupted.
/// Silo B starts on the same ports. Measured: from B's first <c>/readyz</c> 200 to all 1000 sessions <c>running</c> in
/// the ledger with B as their owner (polled every 20 ms).
/// Baseline, on the same silo B right after: GET /api/sessions/{id} of the 1000 idle sessions, 32 at a time (the
/// sweeper's parallelism), until every answer is 200. Each GET activates a grain that is not in memory (its state read
/// from storage) and reads its ledger row: the floor of "touch 1000 stored sessions on this silo", without writes.
/// </summary>
internal sealed class RestartResumeBenchmark(BenchPostgres postgres, string logDirectory, TextWriter output)
{
    private const int Sessions = 1000;
    private const string Resumed = "r-";
    private const string Probed = "p-";

    public async Task<Measurement> RunAsync(CancellationToken cancellationToken)
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bench_restart", cancellationToken);
        var environment = new Dictionary<string, string>
        {
            // A restart, not a shutdown: the premark writes restart_timeout. The drain gives up after 1 s (the turns
            // last 10 minutes), the interrupted turns get 5 s to checkpoint.
            ["Gateway__Resume__StopIntent"] = "Restart",
            ["Gateway__Resume__DrainTimeout"] = "00:00:01",
            ["Gateway__Resume__InterruptGrace"] = "00:00:05",
        };
        await using var cluster = new BenchCluster(connectionString, "bench-restart", Path.Combine(logDirectory, "restart"), environment);
        var ports = SiloPorts.Free();
        var resumeIds = Enumerable.Range(0, Sessions).Select(i => $"{Resumed}{i:0000}").ToArray();
        var probeIds = Enumerable.Range(0, Sessions).Select(i => $"{Probed}{i:0000}").ToArray();

        // Silo A: 1000 sessions mid-turn, 1000 idle ones.
        var first = cluster.Launch("restart-a", ports);
        await BenchCluster.WaitUntilReadyAsync(first, cancellationToken);
        var clock = Stopwatch.StartNew();
        await BenchCluster.PostAsync(first, resumeIds, "work 1x600000", parallelism: 32, cancellationToken);
        await BenchCluster.PostAsync(first, probeIds, "hello", parallelism: 32, cancellationToken);
        output.WriteLine($"  silo A: posted {Sessions} x 'work 1x600000' and {Sessions} x 'hello' in {clock.Elapsed.TotalSeconds:0.0} s");
        if (!await cluster.WaitForPhaseAsync(Probed, "idle", Sessions, TimeSpan.FromSeconds(60), cancellationToken))
        {
            throw new TimeoutException($"not {Sessions} idle probe sessions within 60 s: {await cluster.DescribeAsync(Probed, cancellationToken)}");
        }
        var firstOwner = (await cluster.WaitForLiveSiloAsync(ports.Silo, cancellationToken)).Address;
        var running = await cluster.CountAsync(Resumed, "running", firstOwner, cancellationToken);
        if (running != Sessions)
        {
            throw new InvalidOperationException($"expected {Sessions} sessions running on silo A, found: {await cluster.DescribeAsync(Resumed, cancellationToken)}");
        }

        // SIGTERM: premark, 1 s drain, interrupt.
        clock.Restart();
        await BenchCluster.TerminateAndWaitAsync(first, cancellationToken);

        var pending = await cluster.CountAsync(Resumed, "resume_pending", null, cancellationToken);
        output.WriteLine($"  silo A: SIGTERM -> exit {first.ExitCode} in {clock.Elapsed.TotalSeconds:0.0} s; ledger: {await cluster.DescribeAsync(Resumed, cancellationToken)}");
        if (pending != Sessions)
        {
            throw new InvalidOperationException($"after the stop of silo A, {pending} of {Sessions} sessions are resume_pending");
        }

        // Silo B on the same ports: the measurement starts at its first /readyz 200.
        var second = cluster.Launch("restart-b", ports);
        var ready = await BenchCluster.WaitUntilReadyAsync(second, cancellationToken);
        var readyAt = DateTimeOffset.UtcNow;
        var cpuAtReady = Cpu(second);
        var secondOwner = (await cluster.WaitForLiveSiloAsync(ports.Silo, cancellationToken)).Address;
        TimeSpan? firstResumed = null;
        TimeSpan? allResumed = null;
        long resumed = 0;
        var patience = TimeSpan.FromSeconds(60);
        while (Stopwatch.GetElapsedTime(ready) < patience)
        {
            resumed = await cluster.CountAsync(Resumed, "running", secondOwner, cancellationToken);
            var now = Stopwatch.GetElapsedTime(ready);
            if (resumed > 0 && firstResumed is null)
            {
                firstResumed = now;
            }

            if (resumed == Sessions)
            {
                allResumed = now;
                break;
            }

            await Task.Delay(20, cancellationToken);
        }

        var cpuResume = Cpu(second) - cpuAtReady;
        var claims = await ClaimTimesAsync(cluster, readyAt, cancellationToken);
        output.WriteLine($"  silo B: ready; {resumed} of {Sessions} running on B: first seen after {ResultTable.Format(firstResumed)}, all after {ResultTable.Format(allResumed)} " +
            $"(ledger claim times relative to ready: first {claims.First}, last {claims.Last})");
        output.WriteLine($"  silo B: claims per 250 ms after ready (ledger updated_at): {claims.Histogram}");

        // Baseline: the same silo activates 1000 stored, idle sessions.
        var cpuBeforeBaseline = Cpu(second);
        var baselineStart = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(probeIds, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (sessionId, token) =>
            {
                using var response = await BenchCluster.Http.GetAsync(new Uri(second.BaseAddress, $"api/sessions/{sessionId}"), token);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"GET {sessionId} on silo B: {(int)response.StatusCode}");
                }
            });
        var baseline = Stopwatch.GetElapsedTime(baselineStart);
        var cpuBaseline = Cpu(second) - cpuBeforeBaseline;
        output.WriteLine($"  silo B: GET of {Sessions} idle sessions (activation from storage + ledger read) in {ResultTable.Format(baseline)}");
        output.WriteLine($"  CPU time (independent of the machine's load): resume {cpuResume}, GET baseline {cpuBaseline}");

        return new Measurement(
            $"restart: {Sessions} resume_pending -> running",
            allResumed,
            baseline,
            $"the same silo activates {Sessions} stored idle sessions: GET /api/sessions/{{id}}, 32 in parallel (grain activation with state read + ledger read, no writes)",
            GoalKind.Absolute,
            2.0,
            allResumed is null ? $"only {resumed} of {Sessions} resumed within {patience.TotalSeconds:0} s; {await cluster.DescribeAsync(Resumed, cancellationToken)}" : null);
    }

    /// <summary>First and last claim of the resumed sessions by the ledger's clock (updated_at), relative to B's readiness.</summary>
    private CpuSample Cpu(LocalCluster.SiloProcess silo) => new(CpuTime.OfProcess(silo.ProcessId), CpuTime.OfPostgres(postgres.DataDirectory));

    /// <summary>CPU used so far by the silo process and by the PostgreSQL server; a difference of two is the cost of a window.</summary>
    private sealed record CpuSample(TimeSpan? Silo, TimeSpan? Postgres)
    {
        public static CpuSample operator -(CpuSample after, CpuSample before) => new(after.Silo - before.Silo, after.Postgres - before.Postgres);

        public override string ToString() =>
            $"silo {(Silo is { } silo ? $"{silo.TotalSeconds:0.00} s" : "n/a")} + PostgreSQL {(Postgres is { } pg ? $"{pg.TotalSeconds:0.00} s" : "n/a")}";
    }

    /// <remarks>The claim is the last write of the row (the turn then runs a 10-minute step), so updated_at is the claim's time.</remarks>
    private static async Task<(string First, string Last, string Histogram)> ClaimTimesAsync(BenchCluster cluster, DateTimeOffset readyAt,
        CancellationToken cancellationToken)
    {
        await using var command = cluster.DataSource.CreateCommand($"""
            SELECT updated_at FROM gateway_sessions WHERE session_id LIKE '{Resumed}%' AND phase = 'running' ORDER BY updated_at
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var times = new List<TimeSpan>();
        while (await reader.ReadAsync(cancellationToken))
        {
            times.Add(reader.GetFieldValue<DateTimeOffset>(0) - readyAt);
        }

        if (times.Count == 0)
        {
            return ("-", "-", "-");
        }

        static string Relative(TimeSpan t) => $"{(t < TimeSpan.Zero ? "-" : "+")}{ResultTable.Format(t.Duration())}";
        var slices = new int[(int)Math.Max(0, times[^1].TotalMilliseconds / 250) + 1];
        foreach (var time in times)
        {
            slices[(int)Math.Max(0, time.TotalMilliseconds / 250)]++;
        }

        return (Relative(times[0]), Relative(times[^1]), string.Join(" ", slices));
    }
}
