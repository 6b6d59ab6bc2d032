using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// 5. A rolling upgrade, as Kubernetes rolls a deployment with maxSurge 1 and maxUnavailable 0. Three silos of version
/// 1.0.0 run 300 sessions mid-turn (100 each, <c>work 40x1500</c>: a minute, longer than the whole upgrade); for each
/// old silo in turn a silo of 1.0.1 (the same binary, <c>Gateway:Version</c> differs) starts, and once its
/// <c>/readyz</c> answers 200 the old one gets SIGTERM (a restart: 2 s drain, 2 s interrupt grace) and the next step
/// waits for its exit. Then every turn runs to its end. Measured, with <c>Gateway:Resume:PreferNewestVersion=true</c>:
/// interruptions per session (the final GET's <c>executions</c> - 1 of its turn), the upgrade's time (first new silo
/// start to last old silo exit), the resume lag of the <c>resumed</c> events, lost turns and quarantined sessions.
/// Baseline: the same upgrade on a fresh database with the preference off, where a session resumed on an old silo is
/// interrupted again when that silo's turn comes.
/// </summary>
internal sealed class RollingUpgradeBenchmark(BenchPostgres postgres, string logDirectory, TextWriter output)
{
    private const int Silos = 3;
    private const int Sessions = 300;
    private const string Prefix = "u-";
    private const int Steps = 40;
    private const string OldVersion = "1.0.0";
    private const string NewVersion = "1.0.1";
    private const string BaselineName = "the same upgrade on a fresh database with Gateway:Resume:PreferNewestVersion=false";

    // Sessions interrupted more than once whose history is printed: enough to see the pattern.
    private const int HistoriesShown = 5;

    private static readonly string Work = $"work {Steps}x1500";

    public async Task<IReadOnlyList<Measurement>> RunAsync(CancellationToken cancellationToken)
    {
        var newest = await UpgradeAsync(preferNewest: true, cancellationToken);
        var any = await UpgradeAsync(preferNewest: false, cancellationToken);

        Measurement Row(string name, Func<UpgradeOutcome, double?> measure, MeasuredIn unit, double? goal = null, string? note = null) =>
            new($"upgrade: {name}", measure(newest), measure(any) ?? 0, BaselineName, goal is null ? GoalKind.None : GoalKind.Absolute, goal ?? 0, note, unit);
        return
        [
            Row("max interruptions per session", o => o.Interruptions.Values.DefaultIfEmpty().Max(), MeasuredIn.Count, goal: 1,
                note: newest.InterruptedMoreThanOnce is { Count: > 0 } twice ? $"interrupted more than once: {Named(twice)}" : null),
            Row("mean interruptions per session", o => o.Interruptions.Values.DefaultIfEmpty().Average(), MeasuredIn.Count),
            Row("first new silo start -> last old silo exit", o => o.Duration.TotalSeconds, MeasuredIn.Seconds),
            Row("resume lag p50 (marker -> claim)", o => Samples.Percentile(o.Lags, 50)?.TotalSeconds, MeasuredIn.Seconds),
            Row("resume lag p99 (marker -> claim)", o => Samples.Percentile(o.Lags, 99)?.TotalSeconds, MeasuredIn.Seconds),
            Row("lost turns", o => o.Lost.Count, MeasuredIn.Count, goal: 0, note: newest.Lost.Count > 0 ? Named(newest.Lost) : null),
            Row("quarantined sessions", o => o.Quarantined, MeasuredIn.Count, goal: 0),
        ];
    }

    /// <param name="Interruptions">Per session that could be read: executions of its turn after the first.</param>
    /// <param name="Lags">The <c>waited</c> of every <c>resumed</c> event: the session's marker to the claim.</param>
    /// <param name="Lost">Accepted turns that did not complete, each with what was seen instead.</param>
    private sealed record UpgradeOutcome(
        IReadOnlyDictionary<string, int> Interruptions,
        TimeSpan Duration,
        IReadOnlyList<TimeSpan> Lags,
        IReadOnlyList<string> Lost,
        long Quarantined)
    {
        public IReadOnlyList<string> InterruptedMoreThanOnce =>
            [.. Interruptions.Where(pair => pair.Value > 1).OrderBy(pair => pair.Key).Select(pair => $"{pair.Key} ({pair.Value}x)")];
    }

    private async Task<UpgradeOutcome> UpgradeAsync(bool preferNewest, CancellationToken cancellationToken)
    {
        var label = preferNewest ? "newest" : "any";
        output.WriteLine($"  Gateway:Resume:PreferNewestVersion={preferNewest.ToString().ToLowerInvariant()} ({(preferNewest ? "measured" : "baseline")})");
        var connectionString = await postgres.CreateMigratedDatabaseAsync($"bench_upgrade_{label}", cancellationToken);
        var environment = new Dictionary<string, string>(LocalClusterHost.FastFailureDetection)
        {
            // As the rolling-restart tests stop silos: restarts, each turn interrupted after a 2 s drain.
            ["Gateway__Resume__StopIntent"] = "Restart",
            ["Gateway__Resume__DrainTimeout"] = "00:00:02",
            ["Gateway__Resume__InterruptGrace"] = "00:00:02",
            ["Gateway__Resume__PreferNewestVersion"] = preferNewest ? "true" : "false",
        };
        await using var cluster = new BenchCluster(connectionString, $"bench-upgrade-{label}", Path.Combine(logDirectory, $"upgrade-{label}"), environment);

        var oldSilos = Enumerable.Range(1, Silos).Select(i => cluster.Launch($"old-{i}", SiloPorts.Free(), VersionSetting(OldVersion))).ToList();
        await Task.WhenAll(oldSilos.Select(silo => BenchCluster.WaitUntilReadyAsync(silo, cancellationToken)));
        var ids = Enumerable.Range(0, Sessions).Select(i => $"{Prefix}{i:000}").ToArray();
        for (var i = 0; i < Silos; i++)
        {
            // Each session runs on the silo that took its message: a third on each.
            await BenchCluster.PostAsync(oldSilos[i], ids.Where((_, n) => n % Silos == i), Work, parallelism: 32, cancellationToken);
        }

        if (!await cluster.WaitForPhaseAsync(Prefix, "running", Sessions, TimeSpan.FromSeconds(60), cancellationToken))
        {
            throw new TimeoutException($"the {Sessions} turns did not all start: {await cluster.DescribeAsync(Prefix, cancellationToken)}");
        }

        output.WriteLine($"    {Silos} silos of {OldVersion} ready, {Sessions} x '{Work}' running: {await SessionsBySiloAsync(cluster, "running", cancellationToken)}");

        var started = Stopwatch.GetTimestamp();
        var startedAt = DateTimeOffset.UtcNow;
        string Since() => $"+{Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s";
        var newSilos = new List<SiloProcess>();
        foreach (var old in oldSilos)
        {
            var upgraded = cluster.Launch($"new-{newSilos.Count + 1}", SiloPorts.Free(), VersionSetting(NewVersion));
            newSilos.Add(upgraded);
            await BenchCluster.WaitUntilReadyAsync(upgraded, cancellationToken);
            var ready = Since();
            var oldAddress = (await cluster.WaitForLiveSiloAsync(old.Settings.SiloPort, cancellationToken)).Address;
            var runningOnOld = await cluster.CountAsync(Prefix, "running", oldAddress, cancellationToken);
            var terminated = Since();
            await BenchCluster.TerminateAndWaitAsync(old, cancellationToken);
            output.WriteLine($"    {ready} {upgraded.Settings.Name} ready; {terminated} SIGTERM {old.Settings.Name} with {runningOnOld} turns running on it; " +
                $"{Since()} exit {old.ExitCode}; running: {await SessionsBySiloAsync(cluster, "running", cancellationToken)}");
            if (runningOnOld == 0)
            {
                output.WriteLine($"    warning: {old.Settings.Name} stopped with no turn running: the turns ('{Work}') are too short to measure the upgrade");
            }
        }

        var duration = Stopwatch.GetElapsedTime(started);
        var completed = await cluster.WaitForPhaseAsync(Prefix, "idle", Sessions, TimeSpan.FromSeconds(150), cancellationToken);
        output.WriteLine($"    {Since()} " + (completed
            ? $"every turn done, idle on {await SessionsBySiloAsync(cluster, "idle", cancellationToken)}"
            : $"not every turn done: {await cluster.DescribeAsync(Prefix, cancellationToken)}"));

        var reads = await ReadSessionsAsync(newSilos[^1], ids, cancellationToken);
        var outcome = new UpgradeOutcome(
            reads.Where(pair => pair.Value?.Session is { Turns.Count: 1 }).ToDictionary(pair => pair.Key, pair => pair.Value!.Session!.Turns[0].Executions - 1),
            duration,
            await ResumeLagsAsync(cluster, cancellationToken),
            [.. ids.Select(id => LostBecause(id, reads.GetValueOrDefault(id))).OfType<string>()],
            await cluster.CountAsync(Prefix, "quarantined", null, cancellationToken));
        output.WriteLine($"    upgrade took {ResultTable.Format(duration)}; sessions by interruptions: " +
            string.Join(", ", outcome.Interruptions.Values.GroupBy(count => count).OrderBy(group => group.Key).Select(group => $"{group.Key}x: {group.Count()}")) +
            $"; resumes {outcome.Lags.Count}, lag p50 {ResultTable.Format(Samples.Percentile(outcome.Lags, 50))}, p99 {ResultTable.Format(Samples.Percentile(outcome.Lags, 99))}; " +
            $"lost {outcome.Lost.Count}, quarantined {outcome.Quarantined}");
        if (preferNewest)
        {
            await PrintHistoriesAsync(cluster, outcome.Interruptions.Where(pair => pair.Value > 1).Select(pair => pair.Key).Order().ToList(), startedAt, cancellationToken);
        }

        return outcome;
    }

    private static Dictionary<string, string> VersionSetting(string version) => new() { ["Gateway__Version"] = version };

    private static string Named(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(HistoriesShown)) + (items.Count > HistoriesShown ? $" and {items.Count - HistoriesShown} more" : "");

    /// <summary>Sessions in <paramref name="phase"/> per owner, by the silos' names.</summary>
    private static async Task<string> SessionsBySiloAsync(BenchCluster cluster, string phase, CancellationToken cancellationToken)
    {
        var counts = new List<string>();
        foreach (var silo in await cluster.ReadSilosAsync(cancellationToken))
        {
            if (await cluster.CountAsync(Prefix, phase, silo.Address, cancellationToken) is > 0 and var sessions)
            {
                counts.Add($"{silo.SiloName} {sessions}");
            }
        }

        return counts.Count == 0 ? "none" : string.Join(", ", counts);
    }

    /// <summary>Each session as GET /api/sessions/{id} shows it at the end, 32 at a time; null where the silo did not answer.</summary>
    private static async Task<IReadOnlyDictionary<string, SessionRead?>> ReadSessionsAsync(SiloProcess silo, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        using var api = new GatewayApi();
        var reads = new ConcurrentDictionary<string, SessionRead?>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (id, token) => reads[id] = await api.TryGetSessionAsync(silo.BaseAddress, id, TimeSpan.FromSeconds(10), token));
        return reads;
    }

    private static string? LostBecause(string sessionId, SessionRead? read) => read?.Session switch
    {
        _ when read is null => $"{sessionId} (no answer)",
        null => $"{sessionId} (vanished)",
        { Turns: [{ IsCompleted: true, Reply: var reply }] } when reply == $"done {Steps} steps" => null,
        { Turns: [var turn] } session => $"{sessionId} ({turn.Status} at step {turn.StepsDone}/{turn.StepsTotal}, session {session.Phase})",
        var session => $"{sessionId} ({session.Turns.Count} turns)",
    };

    private static async Task<IReadOnlyList<TimeSpan>> ResumeLagsAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        await using var command = cluster.DataSource.CreateCommand(
            $"SELECT waited FROM gateway_events WHERE kind = @kind AND session_id LIKE '{Prefix}%' AND waited IS NOT NULL");
        command.Parameters.AddWithValue("kind", EventKinds.Resumed);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var lags = new List<TimeSpan>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lags.Add(reader.GetTimeSpan(0));
        }

        return lags;
    }

    /// <summary>What happened to sessions interrupted more than once, by the silos' names and relative to the upgrade's start, to find out why.</summary>
    private async Task PrintHistoriesAsync(BenchCluster cluster, IReadOnlyList<string> sessionIds, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        if (sessionIds.Count == 0)
        {
            return;
        }

        var names = (await cluster.ReadSilosAsync(cancellationToken)).ToDictionary(silo => silo.Address, silo => silo.SiloName);
        var history = new EventHistory(cluster.DataSource);
        output.WriteLine($"    {sessionIds.Count} sessions interrupted more than once; the first {Math.Min(HistoriesShown, sessionIds.Count)}:");
        foreach (var sessionId in sessionIds.Take(HistoriesShown))
        {
            var events = (await history.ReadForSessionAsync(sessionId, 50, cancellationToken)).Reverse().Select(e =>
                $"{(e.At - startedAt).TotalSeconds:+0.0;-0.0} s {e.Kind} {(e.Silo is { } silo ? names.GetValueOrDefault(silo, silo) : "-")}" +
                (e.Detail.Length > 0 ? $" ({e.Detail})" : ""));
            output.WriteLine($"      {sessionId}: {string.Join("; ", events)}");
        }
    }
}
