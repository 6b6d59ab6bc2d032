using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Diagnostics.NETCore.Client;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 8. Managed heap per idle, activated session on one silo: 10,000 sessions each get one <c>hello</c> that completes
/// (so each holds a state with one turn), then stay idle and activated. Measured with <see cref="ManagedHeap"/> (a
/// full blocking GC the benchmark induces): live bytes after the activations minus live bytes before them, over
/// 10,000. "Before" is the same silo with 100 warm-up sessions, not a cold one, so that what the first messages set up
/// once (connection pools, caches, lazily built services) is not charged to the 10,000; the cold silo's heap is printed
/// too and is the row's baseline. The operator dashboard (its <c>/api/operator/silos</c>, which asks the silo) confirms
/// that every session is still activated right before and right after the measure: Orleans deactivates idle grains
/// after its collection age (15 min by default), and the run stays well within it.
/// </summary>
internal sealed class MemoryBenchmark(BenchPostgres postgres, string logDirectory, TextWriter output)
{
    private const int Sessions = 10_000;
    private const int WarmUpSessions = 100;
    private const string Measured = "m-";
    private const string WarmedUp = "w-";
    private const string OperatorToken = "bench-memory";
    private static readonly TimeSpan HeapPatience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CollectionAge = TimeSpan.FromMinutes(15);

    public async Task<IReadOnlyList<Measurement>> RunAsync(CancellationToken cancellationToken)
    {
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bench_memory", cancellationToken);
        await using var cluster = new BenchCluster(connectionString, "bench-memory", Path.Combine(logDirectory, "memory"), new Dictionary<string, string>());
        var ports = SiloPorts.Free();
        var silo = cluster.Launch("memory", ports);
        await BenchCluster.WaitUntilReadyAsync(silo, cancellationToken);
        await using var dashboard = DashboardProcess.Start(new DashboardProcessSettings(connectionString, cluster.ClusterId, BenchPostgres.FreeTcpPort(),
            Path.Combine(cluster.LogDirectory, "dashboard.log")) { OperatorToken = OperatorToken });
        await dashboard.WaitUntilReadyAsync(BenchCluster.ReadyTimeout, cancellationToken);
        using var operatorApi = new HttpClient { BaseAddress = dashboard.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        operatorApi.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorToken);
        var address = (await cluster.WaitForLiveSiloAsync(ports.Silo, cancellationToken)).Address;

        // Let the silo and the dashboard's connection to it settle, as a silo that has been up for a moment.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var cold = await HeapAsync(silo, cancellationToken);

        await PostAndWaitAsync(cluster, silo, WarmedUp, WarmUpSessions, cancellationToken);
        var before = await HeapAsync(silo, cancellationToken);
        var activeBefore = await ActiveSessionsAsync(operatorApi, address, cancellationToken);

        var activation = Stopwatch.StartNew();
        await PostAndWaitAsync(cluster, silo, Measured, Sessions, cancellationToken);
        output.WriteLine($"  {Sessions} sessions posted 'hello' and completed in {activation.Elapsed.TotalSeconds:0.0} s");
        var activeAtMeasure = await ActiveSessionsAsync(operatorApi, address, cancellationToken);
        var after = await HeapAsync(silo, cancellationToken);
        var activeAfter = await ActiveSessionsAsync(operatorApi, address, cancellationToken);
        var sinceFirstActivation = activation.Elapsed;

        output.WriteLine($"  live managed heap after a full GC: cold {Describe(cold)}; with {WarmUpSessions} warm-up sessions {Describe(before)}; " +
            $"with {WarmUpSessions + Sessions} {Describe(after)}");
        output.WriteLine($"  active sessions on the silo (operator API): {activeBefore} before, {activeAtMeasure} and {activeAfter} around the measure, " +
            $"{sinceFirstActivation.TotalSeconds:0} s after the first activation (collection age {CollectionAge.TotalMinutes:0} min)");

        string? note = null;
        double? perSession = null;
        double? perSessionFromCold = null;
        var expected = WarmUpSessions + Sessions;
        if (cold is null || before is null || after is null)
        {
            note = $"the heap was not read: no induced full GC seen within {HeapPatience.TotalSeconds:0} s, or the diagnostics port of process {silo.ProcessId} refused (see the output)";
        }
        else if (activeAtMeasure != expected || activeAfter != expected)
        {
            note = $"expected {expected} active sessions around the measure, the silo reported {activeAtMeasure} and {activeAfter}";
        }
        else
        {
            perSession = (double)(after.Live - before.Live) / Sessions;
            perSessionFromCold = (double)(after.Live - cold.Live) / expected;
        }

        return
        [
            new Measurement($"memory: managed heap per idle active session ({Sessions} on 1 silo)", perSession, cold?.Live ?? 0,
                $"live managed heap of the same silo with no session (after a full GC); per session = (heap with {WarmUpSessions}+{Sessions} - heap with {WarmUpSessions}) / {Sessions}",
                GoalKind.Absolute, 4096, note, MeasuredIn.Bytes) { Comparable = false },
            // The same sessions charged with the silo's one-time warm-up too: an upper bound, shown next to the goal's row.
            new Measurement($"memory: the same, against the cold silo ({WarmUpSessions}+{Sessions} sessions)", perSessionFromCold, cold?.Live ?? 0,
                $"per session = (heap with {WarmUpSessions}+{Sessions} - heap with no session) / {expected}: includes what the first messages set up once",
                GoalKind.None, 0, note, MeasuredIn.Bytes) { Comparable = false },
        ];
    }

    private static string Describe(ManagedHeap? heap) =>
        heap is null ? "n/a" : $"{ResultTable.Format(heap.Live, MeasuredIn.Bytes)} (generations {ResultTable.Format(heap.Generations, MeasuredIn.Bytes)})";

    /// <summary>The silo's heap after a full GC; null (the row then says so) when the diagnostics port cannot be used.</summary>
    private async Task<ManagedHeap?> HeapAsync(SiloProcess silo, CancellationToken cancellationToken)
    {
        try
        {
            return await ManagedHeap.MeasureAsync(silo.ProcessId, HeapPatience, cancellationToken);
        }
        catch (DiagnosticsClientException exception)
        {
            output.WriteLine($"  cannot read the heap of process {silo.ProcessId} through its diagnostics port: {exception.Message}");
            return null;
        }
    }

    /// <summary>One <c>hello</c> to each of <paramref name="count"/> new sessions, 32 at a time, then the wait until all are idle again.</summary>
    private static async Task PostAndWaitAsync(BenchCluster cluster, SiloProcess silo, string prefix, int count, CancellationToken cancellationToken)
    {
        await BenchCluster.PostAsync(silo, Enumerable.Range(0, count).Select(i => $"{prefix}{i:00000}"), "hello", parallelism: 32, cancellationToken);
        if (!await cluster.WaitForPhaseAsync(prefix, "idle", count, TimeSpan.FromSeconds(120), cancellationToken))
        {
            throw new TimeoutException($"not {count} idle sessions within 120 s: {await cluster.DescribeAsync(prefix, cancellationToken)}");
        }
    }

    /// <summary>The session activations the silo reports of itself, through the dashboard; null when it did not report.</summary>
    private static async Task<int?> ActiveSessionsAsync(HttpClient operatorApi, string address, CancellationToken cancellationToken)
    {
        var silos = await operatorApi.GetFromJsonAsync<List<SiloResponse>>("api/operator/silos", cancellationToken);
        return silos?.FirstOrDefault(s => s.Address == address)?.ActiveSessions;
    }
}
