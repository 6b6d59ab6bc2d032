using System.Diagnostics;
using Npgsql;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 4. What one refresh of the dashboard's sessions view costs the database with 100k sessions: a page of 50
/// (keyset paging, with each filter the page offers) plus the counts by phase and of stale markers that head the page:
/// <see cref="SessionQueries.OverviewAsync"/>, as <c>GET /api/operator/sessions</c> calls it.
/// The baseline is the least any such view needs: a bare keyset page of 50 rows by primary key and a bare
/// <c>count(*)</c> of the table. The page polls every second, so the worst filter is what counts.
/// </summary>
internal sealed class ListingBenchmark(string connectionString, TextWriter output)
{
    private const int Sessions = 100_000;
    private const int PageSize = 50;
    private const int Repetitions = 15;
    private static readonly TimeSpan FreshnessWindow = TimeSpan.FromHours(1);
    private static readonly string[] Owners = ["127.0.0.1:11111@100000001", "127.0.0.1:11112@100000001", "127.0.0.1:11113@100000001"];

    public async Task<Measurement> RunAsync(CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await PopulateAsync(dataSource, cancellationToken);
        var ledger = new SessionQueries(dataSource);

        // The views an operator opens at 3 a.m.: everything, a page deep in the list, the rare phases, the stale
        // markers, one silo's sessions (a silo that owns none: the filter that must look furthest).
        var views = new (string Name, SessionListQuery Query)[]
        {
            ("first page", Query()),
            ("page at 50%", Query() with { After = $"s-{Sessions / 2:D6}" }),
            ("phase=quarantined", Query() with { Phase = SessionPhase.Quarantined }),
            ("phase=resume_pending", Query() with { Phase = SessionPhase.ResumePending }),
            ("stale=true", Query() with { Stale = true }),
            ("silo=one of 3", Query() with { OwnerSilo = Owners[1] }),
            ("silo=gone", Query() with { OwnerSilo = "127.0.0.1:11114@100000001" }),
        };

        async Task<TimeSpan> RefreshAsync(SessionListQuery query)
        {
            var started = Stopwatch.GetTimestamp();
            var overview = await ledger.OverviewAsync(query, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            return overview.Counts.Values.Sum() == Sessions && overview.Stale > 0 && overview.Page.Sessions.Count <= PageSize
                ? elapsed
                : throw new InvalidOperationException($"a refresh read {overview.Page.Sessions.Count} rows, counted {overview.Counts.Values.Sum()} sessions, {overview.Stale} stale");
        }

        async Task<TimeSpan> BaselineAsync()
        {
            var started = Stopwatch.GetTimestamp();
            await using (var page = dataSource.CreateCommand("SELECT * FROM gateway_sessions WHERE session_id > @after ORDER BY session_id LIMIT @limit"))
            {
                page.Parameters.AddWithValue("after", "");
                page.Parameters.AddWithValue("limit", PageSize);
                await using var reader = await page.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                }
            }

            await using (var count = dataSource.CreateCommand("SELECT count(*) FROM gateway_sessions"))
            {
                var total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
                if (total != Sessions)
                {
                    throw new InvalidOperationException($"counted {total} sessions, not {Sessions}");
                }
            }

            return Stopwatch.GetElapsedTime(started);
        }

        // Warm-up: connections opened, pages in shared buffers, as on a dashboard that has been open for a while.
        await BaselineAsync();
        foreach (var (_, query) in views)
        {
            await RefreshAsync(query);
        }

        var baseline = new List<TimeSpan>();
        var refreshes = views.ToDictionary(view => view.Name, _ => new List<TimeSpan>());
        for (var i = 0; i < Repetitions; i++)
        {
            baseline.Add(await BaselineAsync());
            foreach (var (name, query) in views)
            {
                refreshes[name].Add(await RefreshAsync(query));
            }
        }

        var medians = refreshes.ToDictionary(pair => pair.Key, pair => Samples.Median(pair.Value));
        var baselineMedian = Samples.Median(baseline);
        output.WriteLine($"  {Sessions} sessions; medians of {Repetitions}: baseline (page + count(*)) {ResultTable.Format(baselineMedian)}; refresh " +
            string.Join(", ", medians.Select(pair => $"{pair.Key} {ResultTable.Format(pair.Value)}")));
        var (worstName, worst) = medians.MaxBy(pair => pair.Value);
        return new Measurement(
            $"dashboard refresh, 100k sessions ({worstName})",
            worst,
            baselineMedian,
            $"a bare keyset page of {PageSize} by primary key + SELECT count(*) of the {Sessions} rows (median of {Repetitions})",
            GoalKind.Ratio,
            3.0);
    }

    private static SessionListQuery Query() => new(null, null, null, FreshnessWindow, PageSize, null);

    /// <summary>
    /// 100k sessions as a large cluster holds them: mostly idle, some running on each of 3 silos, a few thousand waiting
    /// to be resumed (a quarter of them stale), some suspended, a hundred quarantined.
    /// </summary>
    private static async Task PopulateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using (var command = dataSource.CreateCommand("""
            TRUNCATE gateway_sessions;
            INSERT INTO gateway_sessions (session_id, phase, owner_silo, epoch, active_turn_id, resume_reason, resume_marked_at, last_error)
            SELECT 's-' || lpad(i::text, 6, '0'),
                   CASE WHEN i % 1000 = 7 THEN 'quarantined'
                        WHEN i % 100 = 3 THEN 'suspended'
                        WHEN i % 25 = 1 THEN 'resume_pending'
                        WHEN i % 20 = 2 THEN 'running'
                        ELSE 'idle' END,
                   (@owners)[1 + i % 3], 1, 't1',
                   CASE WHEN i % 25 = 1 THEN 'restart_timeout' END,
                   CASE WHEN i % 25 = 1 THEN now() - CASE WHEN i % 4 = 1 THEN interval '2 hours' ELSE interval '5 minutes' END END,
                   CASE WHEN i % 1000 = 7 THEN 'resumed 3 times without progress' END
              FROM generate_series(1, @sessions) AS i;
            """))
        {
            command.Parameters.AddWithValue("owners", Owners);
            command.Parameters.AddWithValue("sessions", Sessions);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var analyze = dataSource.CreateCommand("VACUUM ANALYZE gateway_sessions");
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }
}
