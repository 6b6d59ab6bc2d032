using System.Diagnostics;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Cli.Demo.Chaos;

/// <summary>What a round left: its events, the messages so far, and the violations it brought.</summary>
public sealed record RoundFindings(string Events, int Acknowledged, int Completed, IReadOnlyList<string> NewViolations);

public sealed record SoakSummary(int Acknowledged, int Completed, int Resumed, int FrozenTails, int Lost, int Overlaps, int Unexplained, int Quarantined,
    int Violations);

/// <summary>
/// The soak's invariants. After every round: no two executions of a turn ran a step at once, no woken zombie started a
/// step, no healthy session is quarantined, no message was refused or ended otherwise than completed. At the end, also:
/// every acknowledged message completed, and no turn ran more often than its history explains.
/// </summary>
public sealed class ChaosChecks(ChaosSettings settings, SessionQueries ledger, EventHistory events, MembershipTable membership, ChaosMoves moves,
    ChaosTraffic traffic, IReadOnlyList<string> sessionIds)
{
    private readonly List<string> _violations = [];
    private readonly HashSet<string> _reported = [];
    private readonly HashSet<string> _sessions = [.. sessionIds];
    private EventCursor _cursor;

    public IReadOnlyList<string> Violations => _violations;

    public async Task StartAsync(CancellationToken stop) =>
        _cursor = (await ChaosSoak.RetryAsync(() => events.ReadLatestAsync(1, stop), stop)).Next;

    /// <summary>
    /// Waits until the round's damage is repaired: no session of the soak waits for a resume, and none is recorded
    /// as running on a silo that is not Active (a killed silo's, until crash detection marks them).
    /// </summary>
    public async Task SettleAsync(TimeSpan timeout, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !await SettledAsync(stop))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
        }
    }

    private async Task<bool> SettledAsync(CancellationToken stop)
    {
        var active = (await ChaosSoak.RetryAsync(() => membership.ReadSilosAsync(LocalClusterEnvironment.ClusterId, stop), stop))
            .Where(silo => silo.Status == SiloStatuses.Active).Select(silo => silo.Address).ToHashSet();
        var rows = await ChaosSoak.RetryAsync(() => ledger.GetManyAsync(sessionIds, stop), stop);
        return !rows.Any(row => row.Phase == SessionPhase.ResumePending || row.Phase == SessionPhase.Running && !active.Contains(row.OwnerSilo ?? ""));
    }

    public async Task<RoundFindings> AfterRoundAsync(CancellationToken stop)
    {
        var before = _violations.Count;
        var kinds = await ReadEventsAsync(stop);
        await CheckAsync(stop);
        var acked = traffic.Acked;
        var described = kinds.Count == 0 ? "none" : string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"));
        return new RoundFindings(described, acked.Count, acked.Count(m => m.Completed), _violations[before..]);
    }

    public async Task<SoakSummary> FinalAsync(CancellationToken stop)
    {
        var trace = await CheckAsync(stop);
        var acked = traffic.Acked;
        foreach (var message in acked.Where(m => !m.Completed && !m.EndedBadly))
        {
            Report($"message {message.MessageId} (session {message.SessionId}, turn {message.TurnId}) was acknowledged and did not complete: " +
                   (message.LastSeen is { } turn ? $"last seen {turn.Status} at step {turn.StepsDone}" : "its turn was never seen"));
        }

        var unexplained = 0;
        foreach (var sessionId in sessionIds)
        {
            var history = await ChaosSoak.RetryAsync(() => events.ReadForSessionAsync(sessionId, limit: 100_000, stop), stop);
            foreach (var message in acked.Where(m => m.SessionId == sessionId))
            {
                // Its first start, and one per resume claim or lifted suspension that names it.
                var explained = 1 + history.Count(e => e.Kind is EventKinds.Resumed or EventKinds.SuspensionLifted && e.Detail.StartsWith($"turn {message.TurnId} ", StringComparison.Ordinal));
                var traced = trace.Executions.GetValueOrDefault((sessionId, message.TurnId));
                var recorded = message.LastSeen?.Executions ?? 0;
                if (traced > explained || recorded > explained)
                {
                    unexplained++;
                    Report($"session {sessionId} turn {message.TurnId} ran {Math.Max(traced, recorded)} times ({traced} in the step trace, {recorded} in its state); its history explains {explained}");
                }
            }
        }

        var rows = await ChaosSoak.RetryAsync(() => ledger.GetManyAsync(sessionIds, stop), stop);
        return new SoakSummary(acked.Count, acked.Count(m => m.Completed), trace.Executions.Values.Count(n => n > 1), trace.FrozenTails,
            acked.Count(m => !m.Completed), trace.Overlaps.Count, unexplained, rows.Count(row => row.Phase == SessionPhase.Quarantined), _violations.Count);
    }

    /// <summary>Every check that holds at any moment; the step traces as read for it.</summary>
    private async Task<StepTraceFindings> CheckAsync(CancellationToken stop)
    {
        var trace = Trace();
        foreach (var finding in trace.Overlaps.Concat(trace.StepsAfterWaking))
        {
            Report(finding);
        }

        foreach (var row in await ChaosSoak.RetryAsync(() => ledger.GetManyAsync(sessionIds, stop), stop))
        {
            if (row.Phase == SessionPhase.Quarantined)
            {
                Report($"session {row.SessionId} is quarantined, and its work is healthy: {row.LastError}");
            }
        }

        foreach (var refusal in traffic.Refusals)
        {
            Report(refusal);
        }

        foreach (var message in traffic.Acked.Where(m => m.EndedBadly))
        {
            Report($"message {message.MessageId} (turn {message.TurnId}) ended {message.LastSeen!.Status}: {message.LastSeen.Error ?? message.LastSeen.Reply}");
        }

        return trace;
    }

    private StepTraceFindings Trace() =>
        StepTraceCheck.Check(StepTraceCheck.Read(settings.TraceFolder), moves.Freezes, moves.Exits, DateTimeOffset.UtcNow);

    /// <summary>How many events of each kind the soak's sessions (and the silos) wrote since the last read.</summary>
    private async Task<Dictionary<string, int>> ReadEventsAsync(CancellationToken stop)
    {
        var kinds = new Dictionary<string, int>();
        while (true)
        {
            var page = await ChaosSoak.RetryAsync(() => events.ReadAfterAsync(_cursor, 500, stop), stop);
            foreach (var e in page.Events.Where(e => e.SessionId is null || _sessions.Contains(e.SessionId)))
            {
                kinds[e.Kind] = kinds.GetValueOrDefault(e.Kind) + 1;
            }

            _cursor = page.Next;
            if (page.Events.Count < 500)
            {
                return kinds;
            }
        }
    }

    private void Report(string violation)
    {
        if (_reported.Add(violation))
        {
            _violations.Add(violation);
        }
    }
}
