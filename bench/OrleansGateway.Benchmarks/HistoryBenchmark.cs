using System.Diagnostics;
using System.Globalization;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 6. What a long history costs one message: post-to-completed latency of an echo (<c>hello</c>) on a session with
/// 10,000 turns (<see cref="TurnsVariable"/> overrides the number for development) against sessions with 10 turns, on
/// one silo. Both are seeded through the HTTP API. Samples alternate (small, large, small, ...) so that the machine's
/// noise hits both; each small sample goes to a session of its own, so every baseline sample finds exactly 10 turns
/// (one session measured 200 times would end with 210). Completion is seen by polling <c>GET ?turns=1</c>.
/// </summary>
internal sealed class HistoryBenchmark(BenchPostgres postgres, string logDirectory, TextWriter output)
{
    public const string TurnsVariable = "OGW_BENCH_HISTORY_TURNS";
    private const int DefaultLargeTurns = 10_000;
    private const int SmallTurns = 10;
    private const int WarmUp = 10;
    private const int SampleCount = 200;
    // Posts in flight to the one large session while seeding: the session queues them, the wait is for its writes.
    private const int SeedParallelism = 8;
    private const string LargeSession = "h-large";
    private static readonly TimeSpan PollPause = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan SamplePatience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SeedStall = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan SeedLimit = TimeSpan.FromHours(2);

    /// <summary>The history of the large session: <see cref="TurnsVariable"/> when set, else 10,000.</summary>
    public static int LargeTurns()
    {
        var configured = Environment.GetEnvironmentVariable(TurnsVariable);
        if (string.IsNullOrEmpty(configured))
        {
            return DefaultLargeTurns;
        }

        return int.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out var turns) && turns > SmallTurns
            ? turns
            : throw new InvalidOperationException($"{TurnsVariable}={configured}: expected a whole number above {SmallTurns}");
    }

    public async Task<IReadOnlyList<Measurement>> RunAsync(CancellationToken cancellationToken)
    {
        var largeTurns = LargeTurns();
        var connectionString = await postgres.CreateMigratedDatabaseAsync("bench_history", cancellationToken);
        await using var cluster = new BenchCluster(connectionString, "bench-history", Path.Combine(logDirectory, "history"), new Dictionary<string, string>());
        var silo = cluster.Launch("history", SiloPorts.Free());
        await BenchCluster.WaitUntilReadyAsync(silo, cancellationToken);
        var api = silo.BaseAddress;
        var smallSessions = Enumerable.Range(0, WarmUp + SampleCount).Select(i => $"h-small-{i:000}").ToArray();

        // Seeding: the large session first, SeedParallelism posts at a time; then the small ones, 32 posts at a time, so
        // that they are seeded (and activated) just before the samples: a long seeding of the large session must not
        // leave them idle past Orleans' collection age (15 min), which would add an activation to every baseline sample.
        var clock = Stopwatch.StartNew();
        var posted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, largeTurns), new ParallelOptions { MaxDegreeOfParallelism = SeedParallelism, CancellationToken = cancellationToken },
            async (k, token) =>
            {
                await SessionMessages.PostAsync(BenchCluster.Http, api, LargeSession, $"seed-{k}", "hello", token);
                var done = Interlocked.Increment(ref posted);
                if (done % Math.Max(1, largeTurns / 10) == 0)
                {
                    output.WriteLine($"  seeding {LargeSession}: {done} of {largeTurns} posted after {clock.Elapsed.TotalSeconds:0} s");
                }
            });
        await WaitUntilFinishedAsync(api, LargeSession, largeTurns, progress: true, cancellationToken);
        output.WriteLine($"  seeded {LargeSession} with {largeTurns} turns in {clock.Elapsed.TotalSeconds:0.0} s ({clock.Elapsed.TotalMilliseconds / largeTurns:0.0} ms a turn)");

        clock.Restart();
        await Parallel.ForEachAsync(smallSessions.SelectMany(session => Enumerable.Range(0, SmallTurns).Select(k => (session, k))),
            new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (post, token) => await SessionMessages.PostAsync(BenchCluster.Http, api, post.session, $"seed-{post.k}", "hello", token));
        foreach (var session in smallSessions)
        {
            await WaitUntilFinishedAsync(api, session, SmallTurns, progress: false, cancellationToken);
        }

        output.WriteLine($"  seeded {smallSessions.Length} sessions with {SmallTurns} turns in {clock.Elapsed.TotalSeconds:0.0} s");

        // One client with one connection, as a user's: post, then poll until the turn is completed.
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { Timeout = TimeSpan.FromSeconds(60) };
        clock.Restart();
        var small = new List<Sample>();
        var large = new List<Sample>();
        for (var i = 0; i < WarmUp + SampleCount; i++)
        {
            var smallSample = await SampleAsync(http, api, smallSessions[i], $"bench-{i}", cancellationToken);
            var largeSample = await SampleAsync(http, api, LargeSession, $"bench-{i}", cancellationToken);
            if (i >= WarmUp)
            {
                small.Add(smallSample);
                large.Add(largeSample);
            }
        }

        output.WriteLine($"  the samples took {clock.Elapsed.TotalSeconds:0} s after the seeding (Orleans collects grains idle for 15 min; the large session is never idle that long)");
        output.WriteLine($"  polling: GET ?turns=1 back to back with a {PollPause.TotalMilliseconds:0} ms pause; one poll took (median) " +
            $"{ResultTable.Format(Median(small.SelectMany(s => s.Polls)))} on a {SmallTurns}-turn session, {ResultTable.Format(Median(large.SelectMany(s => s.Polls)))} on the {largeTurns}-turn one; " +
            $"the post alone (to 202) {ResultTable.Format(Median(small.Select(s => s.Accept)))} and {ResultTable.Format(Median(large.Select(s => s.Accept)))}");
        var label = largeTurns == DefaultLargeTurns ? $"{largeTurns} turns" : $"{largeTurns} turns ({TurnsVariable})";
        return [Row($"history: echo p50 on {label}", small, large, 50), Row($"history: echo p99 on {label}", small, large, 99)];
    }

    private Measurement Row(string name, List<Sample> small, List<Sample> large, double percent)
    {
        var timedOut = large.Count(s => s.Latency is null);
        var baseline = Samples.Percentile(small.Where(s => s.Latency is not null).Select(s => s.Latency!.Value), percent);
        var value = timedOut == 0 ? Samples.Percentile(large.Select(s => s.Latency!.Value), percent) : null;
        var smallTimedOut = small.Count(s => s.Latency is null);
        var note = timedOut > 0 || smallTimedOut > 0
            ? $"{timedOut} large and {smallTimedOut} small samples not completed within {SamplePatience.TotalSeconds:0} s"
            : null;
        return new Measurement(name, value, baseline ?? TimeSpan.Zero,
            $"p{percent:0} of the same echo on sessions with {SmallTurns} turns ({SampleCount} samples each, interleaved; post to completed seen by GET ?turns=1 every ~{PollPause.TotalMilliseconds:0} ms)",
            GoalKind.Ratio, 1.2, note);
    }

    private static TimeSpan? Median(IEnumerable<TimeSpan> values) => values.Any() ? Samples.Median(values) : null;

    /// <summary>One measured echo: post to the first poll that sees it completed (null past the patience), the post alone, each poll.</summary>
    private sealed record Sample(TimeSpan? Latency, TimeSpan Accept, List<TimeSpan> Polls);

    private static async Task<Sample> SampleAsync(HttpClient http, Uri api, string sessionId, string messageId, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await SessionMessages.PostAsync(http, api, sessionId, messageId, "hello", cancellationToken);
        var accept = Stopwatch.GetElapsedTime(start);
        var polls = new List<TimeSpan>();
        while (Stopwatch.GetElapsedTime(start) < SamplePatience)
        {
            var poll = Stopwatch.GetTimestamp();
            var tally = await SessionTurns.ReadAsync(http, api, sessionId, 1, cancellationToken);
            polls.Add(Stopwatch.GetElapsedTime(poll));
            if (tally.LastMessageId == messageId && tally.LastStatus == "completed")
            {
                return new Sample(Stopwatch.GetElapsedTime(start), accept, polls);
            }

            if (tally.LastMessageId == messageId && tally.LastStatus == "failed")
            {
                throw new InvalidOperationException($"the echo {messageId} on {sessionId} failed");
            }

            await Task.Delay(PollPause, cancellationToken);
        }

        return new Sample(null, accept, polls);
    }

    /// <summary>Polls (every 5 s, or every 50 ms for small sessions) until the session has <paramref name="turns"/> finished turns; fails when it stalls.</summary>
    private async Task WaitUntilFinishedAsync(Uri api, string sessionId, int turns, bool progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var lastProgress = clock.Elapsed;
        var lastFinished = -1;
        var lastPrinted = TimeSpan.Zero;
        while (true)
        {
            var tally = await SessionTurns.ReadAsync(BenchCluster.Http, api, sessionId, SessionTurns.Page, cancellationToken);
            if (!tally.CountsKnown)
            {
                // A silo that pages turns, with more queued than a page: only the total is known until the queue shortens.
                if (clock.Elapsed > SeedLimit)
                {
                    throw new TimeoutException($"{sessionId}: over {SeedLimit.TotalHours:0} h with more than {SessionTurns.Page} turns queued");
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }

            if (tally.Failed > 0)
            {
                throw new InvalidOperationException($"{sessionId}: {tally.Failed} seeded turns failed");
            }

            if (tally.TurnCount == turns && tally.AllFinished)
            {
                return;
            }

            if (tally.Finished != lastFinished)
            {
                (lastFinished, lastProgress) = (tally.Finished, clock.Elapsed);
            }
            else if (clock.Elapsed - lastProgress > SeedStall)
            {
                throw new TimeoutException($"{sessionId}: stuck at {tally.Finished} of {tally.TurnCount} turns finished for {SeedStall.TotalSeconds:0} s");
            }

            if (progress && clock.Elapsed - lastPrinted > TimeSpan.FromSeconds(30))
            {
                output.WriteLine($"  {sessionId}: {tally.Finished} of {tally.TurnCount} turns finished");
                lastPrinted = clock.Elapsed;
            }

            // Each read of the large session is a GET of its whole history on today's silos: not so often that the reads
            // slow the turns they wait for.
            await Task.Delay(progress ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }
}
