using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Benchmarks;

/// <summary>What one pgbench run reported: transactions per second without the connection time, and the mean latency.</summary>
internal sealed record PgbenchResult(double TransactionsPerSecond, TimeSpan LatencyAverage, long Transactions, long Failed);

/// <summary>
/// pgbench, which ships with PostgreSQL, on the benchmark's server: <paramref name="clients"/> connections running a
/// single-row upsert (<c>\set id random(1, 100000)</c>, <c>INSERT ... ON CONFLICT (id) DO UPDATE</c>) in a database of
/// its own, as the floor of "one durable write per request" that the gateway's throughput is compared with.
/// </summary>
internal sealed partial class Pgbench(BenchPostgres postgres, string workFolder)
{
    private const string Script = """
        \set id random(1, 100000)
        INSERT INTO bench_upsert (id, v) VALUES (:id, 1) ON CONFLICT (id) DO UPDATE SET v = bench_upsert.v + 1;
        """;

    public const string Database = "bench_pgbench";

    public static string Command => FindExecutable();

    /// <summary>Creates the database and its table; call once before <see cref="RunAsync"/>.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var connectionString = await postgres.CreateDatabaseAsync(Database, cancellationToken);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("CREATE TABLE bench_upsert (id integer PRIMARY KEY, v bigint NOT NULL)");
        await command.ExecuteNonQueryAsync(cancellationToken);
        Directory.CreateDirectory(workFolder);
        await File.WriteAllTextAsync(Path.Combine(workFolder, "upsert.sql"), Script + "\n", cancellationToken);
    }

    /// <summary>Runs pgbench for <paramref name="duration"/> (whole seconds) and parses what it printed; fails on a non-zero exit.</summary>
    public async Task<PgbenchResult> RunAsync(int clients, int threads, TimeSpan duration, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workFolder,
        };
        // -n: no vacuum of pgbench's own tables (there are none here).
        string[] arguments = ["-n", "-h", "127.0.0.1", "-p", postgres.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres",
            "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", threads.ToString(CultureInfo.InvariantCulture),
            "-T", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-f", Path.Combine(workFolder, "upsert.sql"), Database];
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {Command}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var text = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pgbench exited with {process.ExitCode}: {text.Trim()} {(await stderr).Trim()}");
        }

        return Parse(text);
    }

    /// <summary>
    /// Reads pgbench's summary: <c>tps = N (without initial connection time)</c> (PostgreSQL 14 and later; before that
    /// <c>(excluding connections establishing)</c>), <c>latency average = N ms</c>, the transactions processed and failed.
    /// </summary>
    public static PgbenchResult Parse(string output)
    {
        var tps = TpsLine().Match(output);
        var latency = LatencyLine().Match(output);
        var processed = ProcessedLine().Match(output);
        if (!tps.Success || !latency.Success || !processed.Success)
        {
            throw new FormatException($"pgbench printed no tps, latency average or transaction count: {output.Trim()}");
        }

        var failed = FailedLine().Match(output);
        return new PgbenchResult(
            double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture),
            TimeSpan.FromMilliseconds(double.Parse(latency.Groups[1].Value, CultureInfo.InvariantCulture)),
            long.Parse(processed.Groups[1].Value, CultureInfo.InvariantCulture),
            failed.Success ? long.Parse(failed.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    private static string FindExecutable()
    {
        var beside = Path.Combine(LocalPostgresServer.FindBinDirectory(), "pgbench");
        if (File.Exists(beside))
        {
            return beside;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "pgbench"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("pgbench not found beside pg_ctl nor on PATH (Debian: it comes with postgresql-client)");
    }

    [GeneratedRegex(@"^tps = ([0-9]+(?:\.[0-9]+)?) \((?:without initial connection time|excluding connections establishing)\)", RegexOptions.Multiline)]
    private static partial Regex TpsLine();

    [GeneratedRegex(@"^latency average = ([0-9]+(?:\.[0-9]+)?) ms", RegexOptions.Multiline)]
    private static partial Regex LatencyLine();

    [GeneratedRegex(@"^number of transactions actually processed: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex ProcessedLine();

    [GeneratedRegex(@"^number of failed transactions: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex FailedLine();
}
