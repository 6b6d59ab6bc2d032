using System.Diagnostics;
using OrleansGateway.Benchmarks;
using OrleansGateway.LocalCluster;

// dotnet run -c Release --project bench/OrleansGateway.Benchmarks [-- premark restart crash listing upgrade history throughput memory]
// Every number is printed against a baseline measured in the same run: the machine may be busy with other work.
// Exit code 0 when every measurement was taken (the table says which goals were missed), 1 on an error, 2 on bad arguments.
string[] all = ["premark", "restart", "crash", "listing", "upgrade", "history", "throughput", "memory"];
var selected = args.Length == 0 ? all : args;
if (selected.Except(all).ToList() is { Count: > 0 } unknown)
{
    Console.Error.WriteLine($"unknown benchmark(s): {string.Join(", ", unknown)}; choose from {string.Join(", ", all)} (default: all)");
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Stop measuring, but let the finally blocks stop the silos and PostgreSQL and delete the data folder.
    e.Cancel = true;
    cancellation.Cancel();
};

var clock = Stopwatch.StartNew();
var logDirectory = Path.Combine(AppContext.BaseDirectory, "bench-logs", DateTime.Now.ToString("yyyyMMdd-HHmmss"));
var output = Console.Out;
var results = new List<Measurement>();
try
{
    output.WriteLine($"silo: {BuiltProgram.Silo}");
    output.WriteLine($"silo logs: {logDirectory}");
    await using var postgres = await BenchPostgres.StartAsync(cancellation.Token);
    output.WriteLine($"{await postgres.DescribeDurabilityAsync(cancellation.Token)} on 127.0.0.1:{postgres.Port} ({postgres.DataDirectory}, deleted afterwards)");

    if (selected.Contains("premark"))
    {
        output.WriteLine("[1/8] premark vs raw batched UPDATE");
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bench_premark", cancellation.Token);
        results.AddRange(await new PremarkBenchmark(connectionString, output).RunAsync(cancellation.Token));
    }

    if (selected.Contains("restart"))
    {
        output.WriteLine("[2/8] restart: 1000 interrupted sessions resumed by the restarted silo");
        results.Add(await new RestartResumeBenchmark(postgres, logDirectory, output).RunAsync(cancellation.Token));
    }

    if (selected.Contains("crash"))
    {
        output.WriteLine("[3/8] crash: SIGKILL of one of 2 silos, 200 sessions mid-turn on it");
        results.Add(await new CrashResumeBenchmark(postgres, logDirectory, output).RunAsync(cancellation.Token));
    }

    if (selected.Contains("listing"))
    {
        output.WriteLine("[4/8] listing: one refresh of the dashboard's sessions view with 100k sessions");
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bench_listing", cancellation.Token);
        results.Add(await new ListingBenchmark(connectionString, output).RunAsync(cancellation.Token));
    }

    if (selected.Contains("upgrade"))
    {
        output.WriteLine("[5/8] upgrade: rolling upgrade of 3 silos with 300 sessions mid-turn, newest version preferred or not");
        results.AddRange(await new RollingUpgradeBenchmark(postgres, logDirectory, output).RunAsync(cancellation.Token));
    }

    if (selected.Contains("history"))
    {
        output.WriteLine($"[6/8] history: echo latency on a session with {HistoryBenchmark.LargeTurns()} turns vs 10 turns");
        results.AddRange(await new HistoryBenchmark(postgres, logDirectory, output).RunAsync(cancellation.Token));
    }

    if (selected.Contains("throughput"))
    {
        output.WriteLine("[7/8] throughput: 32 clients posting echo messages to 3 silos vs pgbench upserts");
        results.AddRange(await new ThroughputBenchmark(postgres, logDirectory, output).RunAsync(cancellation.Token));
    }

    if (selected.Contains("memory"))
    {
        output.WriteLine("[8/8] memory: managed heap per idle active session, 10k sessions on one silo");
        results.AddRange(await new MemoryBenchmark(postgres, logDirectory, output).RunAsync(cancellation.Token));
    }
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    Console.Error.WriteLine("benchmark: cancelled");
    return 1;
}
catch (Exception exception)
{
    Console.Error.WriteLine($"benchmark: error: {exception}");
    Console.Error.WriteLine($"silo logs: {logDirectory}");
    return 1;
}

output.WriteLine();
output.WriteLine($"OrleansGateway benchmark ({Environment.ProcessorCount} cores, {clock.Elapsed.TotalSeconds:0} s)");
ResultTable.Print(results, output);
output.WriteLine($"{results.Count(r => r.Met)} of {results.Count(r => r.HasGoal)} goals met; silo logs in {logDirectory}");
return 0;
