using System.Diagnostics;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 3. A crash. Two silos with the fast failure detection of the multi-process tests; 200 messages <c>work 1x600000</c>
/// are posted to silo X, so 200 sessions run a 10-minute turn there (local placement). X gets SIGKILL: no premark,
/// no shutdown code. Measured: from the SIGKILL to all 200 sessions <c>running</c> in the ledger with the survivor Y as
/// owner (crash detection marks them restart_interrupted once the membership table says X is Dead, then Y's sweeper
/// resumes them). Baseline: from the SIGKILL to the membership table recording status 6 (Dead) for X, the earliest
/// moment crash detection is allowed to act. Both polled every 25 ms in one loop.
/// </summary>
internal sealed class CrashResumeBenchmark(BenchPostgres postgres, string logDirectory, TextWriter output)
{
    private const int Sessions = 200;
    private const string Prefix = "c-";

    public async Task<Measurement> RunAsync(CancellationToken cancellationToken)
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bench_crash", cancellationToken);
        await using var cluster = new BenchCluster(connectionString, "bench-crash", Path.Combine(logDirectory, "crash"), LocalClusterHost.FastFailureDetection);
        var victimPorts = SiloPorts.Free();
        var survivorPorts = SiloPorts.Free();
        var victim = cluster.Launch("crash-x", victimPorts);
        var survivor = cluster.Launch("crash-y", survivorPorts);
        await Task.WhenAll(BenchCluster.WaitUntilReadyAsync(victim, cancellationToken), BenchCluster.WaitUntilReadyAsync(survivor, cancellationToken));
        var victimAddress = (await cluster.WaitForLiveSiloAsync(victimPorts.Silo, cancellationToken)).Address;
        var survivorAddress = (await cluster.WaitForLiveSiloAsync(survivorPorts.Silo, cancellationToken)).Address;

        var ids = Enumerable.Range(0, Sessions).Select(i => $"{Prefix}{i:000}").ToArray();
        await BenchCluster.PostAsync(victim, ids, "work 1x600000", parallelism: 32, cancellationToken);
        var running = await cluster.CountAsync(Prefix, "running", victimAddress, cancellationToken);
        output.WriteLine($"  2 silos ready; {running} of {Sessions} sessions running on X ({victimAddress}); ledger: {await cluster.DescribeAsync(Prefix, cancellationToken)}");
        if (running != Sessions)
        {
            throw new InvalidOperationException($"expected all {Sessions} sessions running on silo X");
        }

        var killed = Stopwatch.GetTimestamp();
        victim.Kill();
        TimeSpan? dead = null;
        TimeSpan? allResumed = null;
        TimeSpan? firstResumed = null;
        long resumed = 0;
        var patience = TimeSpan.FromSeconds(90);
        while (Stopwatch.GetElapsedTime(killed) < patience && (dead is null || allResumed is null))
        {
            var status = await cluster.SiloStatusAsync(victimAddress, cancellationToken);
            resumed = await cluster.CountAsync(Prefix, "running", survivorAddress, cancellationToken);
            var now = Stopwatch.GetElapsedTime(killed);
            if (dead is null && status == "Dead")
            {
                dead = now;
            }

            if (firstResumed is null && resumed > 0)
            {
                firstResumed = now;
            }

            if (allResumed is null && resumed == Sessions)
            {
                allResumed = now;
            }

            await Task.Delay(25, cancellationToken);
        }

        output.WriteLine($"  SIGKILL X: declared Dead after {ResultTable.Format(dead)}; first session running on Y after {ResultTable.Format(firstResumed)}, " +
            $"all {Sessions} after {ResultTable.Format(allResumed)}; ledger: {await cluster.DescribeAsync(Prefix, cancellationToken)}");
        if (dead is null)
        {
            throw new TimeoutException($"the membership table did not declare silo X dead within {patience.TotalSeconds:0} s; see {cluster.LogDirectory}");
        }

        return new Measurement(
            $"crash: SIGKILL -> {Sessions} sessions running on survivor",
            allResumed,
            dead.Value,
            "SIGKILL -> membership table says status 6 (Dead) for the killed silo (fast failure detection, see README)",
            GoalKind.Absolute,
            10.0,
            allResumed is null ? $"only {resumed} of {Sessions} resumed within {patience.TotalSeconds:0} s" : null);
    }
}
