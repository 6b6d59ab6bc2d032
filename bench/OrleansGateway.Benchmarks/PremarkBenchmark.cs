using System.Diagnostics;
using Npgsql;
using OrleansGateway.Storage;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 1. The premark of a stopping silo (<see cref="SessionLedger.PremarkAsync"/>: one statement that finds the silo's
/// running sessions through the <c>owner_silo</c> partial index and writes four markers) against the cheapest
/// possible batched write of the same rows: <c>UPDATE ... SET phase = 'resume_pending' WHERE session_id = ANY(@ids)</c>,
/// with the ids known in advance. The table holds 3x as many rows of three other silos, half of them running.
/// Before every timed statement the rows are reset, vacuumed and checkpointed, so each run starts from the same
/// state (and pays the same full-page writes after the checkpoint); the two variants alternate which goes first.
/// </summary>
internal sealed class PremarkBenchmark(string connectionString, TextWriter output)
{
    private const string Target = "127.0.0.1:11111@100000001";
    private static readonly string[] OtherOwners = ["127.0.0.1:11112@100000001", "127.0.0.1:11113@100000001", "127.0.0.1:11114@100000001"];

    public async Task<IReadOnlyList<Measurement>> RunAsync(CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var results = new List<Measurement>();
        foreach (var (sessions, repetitions) in new[] { (1_000, 9), (10_000, 7) })
        {
            results.Add(await MeasureAsync(dataSource, sessions, repetitions, cancellationToken));
        }

        return results;
    }

    private async Task<Measurement> MeasureAsync(NpgsqlDataSource dataSource, int sessions, int repetitions, CancellationToken cancellationToken)
    {
        var ids = await PopulateAsync(dataSource, sessions, cancellationToken);
        var ledger = new SessionLedger(dataSource);
        var premark = new List<TimeSpan>();
        var raw = new List<TimeSpan>();

        async Task<TimeSpan> TimePremarkAsync()
        {
            await ResetAsync(dataSource, sessions, cancellationToken);
            var started = Stopwatch.GetTimestamp();
            var marked = await ledger.PremarkAsync(Target, Guid.NewGuid(), ResumeReasons.RestartTimeout, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            return marked == sessions ? elapsed : throw new InvalidOperationException($"the premark marked {marked} sessions, not {sessions}");
        }

        async Task<TimeSpan> TimeRawAsync()
        {
            await ResetAsync(dataSource, sessions, cancellationToken);
            var started = Stopwatch.GetTimestamp();
            await using var command = dataSource.CreateCommand("UPDATE gateway_sessions SET phase = 'resume_pending' WHERE session_id = ANY(@ids)");
            command.Parameters.AddWithValue("ids", ids);
            var marked = await command.ExecuteNonQueryAsync(cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            return marked == sessions ? elapsed : throw new InvalidOperationException($"the raw update marked {marked} sessions, not {sessions}");
        }

        // Warm-up: connections opened, plans cached, pages in shared buffers.
        await TimePremarkAsync();
        await TimeRawAsync();
        for (var i = 0; i < repetitions; i++)
        {
            if (i % 2 == 0)
            {
                premark.Add(await TimePremarkAsync());
                raw.Add(await TimeRawAsync());
            }
            else
            {
                raw.Add(await TimeRawAsync());
                premark.Add(await TimePremarkAsync());
            }
        }

        var result = new Measurement(
            $"premark {sessions / 1000}k running sessions",
            Samples.Median(premark),
            Samples.Median(raw),
            $"raw UPDATE ... SET phase='resume_pending' WHERE session_id = ANY(@ids) of the same {sessions} rows (median of {repetitions})",
            GoalKind.Ratio,
            1.5);
        output.WriteLine($"  {sessions} of {sessions * 4} rows: PremarkAsync median {result.ValueText} " +
            $"[{string.Join(", ", premark.Order().Select(t => t.TotalMilliseconds.ToString("0.0")))}] ms; raw median {result.BaselineText} " +
            $"[{string.Join(", ", raw.Order().Select(t => t.TotalMilliseconds.ToString("0.0")))}] ms");
        return result;
    }

    /// <summary><paramref name="sessions"/> running rows of the target silo among 3x as many of three other silos.</summary>
    private static async Task<string[]> PopulateAsync(NpgsqlDataSource dataSource, int sessions, CancellationToken cancellationToken)
    {
        await using (var command = dataSource.CreateCommand("""
            TRUNCATE gateway_sessions;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, active_turn_id)
            SELECT 'target-' || i, 'running', @target, 1, 't1' FROM generate_series(1, @sessions) AS i;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, active_turn_id)
            SELECT 'other-' || i, CASE WHEN i % 2 = 0 THEN 'running' ELSE 'idle' END, (@others)[1 + i % 3], 1,
                   CASE WHEN i % 2 = 0 THEN 't1' END
              FROM generate_series(1, 3 * @sessions) AS i;
            """))
        {
            command.Parameters.AddWithValue("target", Target);
            command.Parameters.AddWithValue("others", OtherOwners);
            command.Parameters.AddWithValue("sessions", sessions);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await ExecuteAsync(dataSource, "VACUUM ANALYZE gateway_sessions", cancellationToken);
        return Enumerable.Range(1, sessions).Select(i => $"target-{i}").ToArray();
    }

    /// <summary>The target rows back to running with no markers; dead rows vacuumed; dirty pages flushed.</summary>
    private static async Task ResetAsync(NpgsqlDataSource dataSource, int sessions, CancellationToken cancellationToken)
    {
        await using (var command = dataSource.CreateCommand("""
            UPDATE gateway_sessions
               SET phase = 'running', resume_reason = NULL, premark_stop_id = NULL, resume_marked_at = NULL
             WHERE session_id LIKE 'target-%'
            """))
        {
            var reset = await command.ExecuteNonQueryAsync(cancellationToken);
            if (reset != sessions)
            {
                throw new InvalidOperationException($"reset {reset} rows, expected {sessions}");
            }
        }

        await ExecuteAsync(dataSource, "VACUUM gateway_sessions", cancellationToken);
        await ExecuteAsync(dataSource, "CHECKPOINT", cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
