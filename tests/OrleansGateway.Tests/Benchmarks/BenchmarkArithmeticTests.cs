using OrleansGateway.Benchmarks;

namespace OrleansGateway.Tests.Benchmarks;

/// <summary>The benchmark's pure parts: what it reads from pgbench, and how the table judges and prints a row.</summary>
public sealed class BenchmarkArithmeticTests
{
    // pgbench 15's summary (the lines the benchmark reads are those of PostgreSQL 14 and later).
    private const string Pgbench15 = """
        pgbench (15.18 (Debian 15.18-0+deb12u1))
        transaction type: /tmp/upsert.sql
        scaling factor: 1
        query mode: simple
        number of clients: 32
        number of threads: 2
        maximum number of tries: 1
        duration: 20 s
        number of transactions actually processed: 92687
        number of failed transactions: 0 (0.000%)
        latency average = 6.845 ms
        initial connection time = 41.315 ms
        tps = 4674.933815 (without initial connection time)
        """;

    [Fact]
    public void Pgbench_tps_excludes_the_connection_time_and_the_latency_is_read_in_milliseconds()
    {
        var result = Pgbench.Parse(Pgbench15);

        Assert.Equal(4674.933815, result.TransactionsPerSecond, precision: 6);
        Assert.Equal(6.845, result.LatencyAverage.TotalMilliseconds, precision: 3);
        Assert.Equal(92687, result.Transactions);
        Assert.Equal(0, result.Failed);
    }

    [Fact]
    public void Pgbench_before_14_names_the_tps_without_connections_differently()
    {
        const string pgbench13 = """
            number of transactions actually processed: 1000
            latency average = 2.000 ms
            tps = 500.1 (including connections establishing)
            tps = 512.5 (excluding connections establishing)
            """;

        Assert.Equal(512.5, Pgbench.Parse(pgbench13).TransactionsPerSecond);
    }

    [Fact]
    public void Pgbench_output_without_a_tps_line_is_an_error_not_a_zero()
    {
        Assert.Throws<FormatException>(() => Pgbench.Parse("pgbench: error: connection to server failed"));
    }

    [Fact]
    public void A_minimum_ratio_goal_is_met_at_or_above_it()
    {
        static Measurement Rate(double value) =>
            new("rate", value, 1000, "baseline", GoalKind.MinRatio, 0.25, null, MeasuredIn.PerSecond);

        Assert.True(Rate(250).Met);
        Assert.False(Rate(249).Met);
        Assert.Equal("ratio >= 0.25x", Rate(250).GoalText);
        Assert.False(new Measurement("rate", null, 1000, "baseline", GoalKind.MinRatio, 0.25, "not measured", MeasuredIn.PerSecond).Met);
    }

    [Fact]
    public void Bytes_print_whole_below_a_mebibyte_and_a_row_of_another_quantity_shows_no_ratio()
    {
        var perSession = new Measurement("memory", 3915, 38_273_024, "heap", GoalKind.Absolute, 4096, null, MeasuredIn.Bytes) { Comparable = false };

        Assert.Equal("3915 B", perSession.ValueText);
        Assert.Equal("36.5 MiB", perSession.BaselineText);
        Assert.Equal("<= 4096 B", perSession.GoalText);
        Assert.Null(perSession.Ratio);
        Assert.True(perSession.Met);
    }

    [Fact]
    public void An_absolute_goal_in_seconds_keeps_its_milliseconds()
    {
        Assert.Equal("<= 0.05 s", new Measurement("p99", TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(8), "b", GoalKind.Absolute, 0.05).GoalText);
    }
}
