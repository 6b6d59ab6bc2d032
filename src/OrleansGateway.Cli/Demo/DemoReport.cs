using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;
using Spectre.Console;

namespace OrleansGateway.Cli.Demo;

/// <summary>A message the demo posted and the turn the gateway accepted it as.</summary>
public sealed record PostedTurn(string SessionId, string MessageId, string TurnId);

/// <summary>What became of every accepted turn after the rolling restart: a table for people and a verdict.</summary>
public sealed class DemoReport
{
    private const int NamedAtMost = 5;
    private readonly List<(string Name, string Value, string Meaning)> _rows = [];

    private DemoReport()
    {
    }

    /// <summary>Accepted turns that never completed or vanished, each with what was seen instead.</summary>
    public IReadOnlyList<string> Lost { get; private init; } = [];

    /// <summary>Turns started more often than their resumes explain, that ran more steps than planned, replied wrongly, or exist twice for one message.</summary>
    public IReadOnlyList<string> Duplicates { get; private init; } = [];

    /// <summary>Sessions seen quarantined: resumed too often without progress, and never resumed again automatically.</summary>
    public IReadOnlyList<string> Quarantined { get; private init; } = [];

    /// <summary>One line saying why the run failed; null when every turn completed exactly once.</summary>
    public string? Failure
    {
        get
        {
            var problems = new List<string>();
            if (Lost.Count > 0)
            {
                problems.Add($"{Lost.Count} accepted turns were lost: {Name(Lost)}");
            }

            if (Duplicates.Count > 0)
            {
                problems.Add($"{Duplicates.Count} turns executed more than once: {Name(Duplicates)}");
            }

            if (Quarantined.Count > 0)
            {
                problems.Add($"{Quarantined.Count} sessions were quarantined: {Name(Quarantined)}");
            }

            return problems.Count == 0 ? null : string.Join("; ", problems);
        }
    }

    /// <param name="explainedStarts">For each session, the starts of its turn that its history explains (see LongTurnsDemo).</param>
    public static DemoReport Build(DemoSettings settings, IReadOnlyList<PostedTurn> posted, IReadOnlyDictionary<string, SessionRead?> final,
        IReadOnlyDictionary<string, int> explainedStarts, SessionWatch watch, IReadOnlyList<ResumeClock> clocks)
    {
        var sessions = final.Values.Select(read => read?.Session).OfType<SessionResponse>().ToList();
        var turns = sessions.SelectMany(session => session.Turns).ToList();
        var quarantined = watch.Quarantined.Union(sessions.Where(s => s.Phase == SessionPhase.Quarantined.ToName()).Select(s => s.SessionId)).ToList();
        var report = new DemoReport
        {
            Lost = [.. posted.Select(turn => LostBecause(turn, final.GetValueOrDefault(turn.SessionId))).OfType<string>()],
            Duplicates = [.. sessions.SelectMany(session => DuplicatedBecause(session, settings, posted, explainedStarts.GetValueOrDefault(session.SessionId, 1)))],
            Quarantined = quarantined,
        };

        report.Add("sessions", posted.Count, "sessions that got one message each");
        report.Add("turns", turns.Count, $"turns they hold; {turns.Count(turn => turn.IsCompleted)} completed");
        report.Add("interrupted", turns.Count(turn => turn.Executions > 1), "turns cut short that ran again from their checkpoint (executions > 1)");
        report.Add("premarked", watch.Premarked.Count, $"sessions a stopping silo marked resume_pending before its drain{ByReason(watch.Premarked)}");
        report.Add("other marks", watch.OtherMarks.Count, $"sessions marked resume_pending otherwise (crash detection, deactivation){ByReason(watch.OtherMarks)}");
        report.Add("resumed", turns.Sum(turn => Math.Max(0, turn.Executions - 1)), "resumes: executions of a turn after its first");
        report.Add("quarantined", quarantined.Count, quarantined.Count == 0 ? "sessions resumed too often without progress" : Name(quarantined));
        report.Add("lost", report.Lost.Count, report.Lost.Count == 0 ? "accepted turns that never completed or vanished" : Name(report.Lost));
        report.Add("duplicate executions", report.Duplicates.Count,
            report.Duplicates.Count == 0
                ? "turns started more often than their resumes explain, with more steps than planned, a wrong reply, or twice for one message"
                : Name(report.Duplicates));
        report.AddResumeTimes(clocks, settings);
        return report;
    }

    public Table ToTable()
    {
        var table = new Table().AddColumns("", "", "");
        table.ShowHeaders = false;
        foreach (var (name, value, meaning) in _rows)
        {
            table.AddRow(new Text(name), new Text(value), new Text(meaning));
        }

        return table;
    }

    /// <summary>A row of the table: a name, its value (more lines than one if need be), and what it means.</summary>
    public void Add(string name, string value, string meaning) => _rows.Add((name, value, meaning));

    private void Add(string name, int count, string meaning) => Add(name, count.ToString(), meaning);

    private void AddResumeTimes(IReadOnlyList<ResumeClock> clocks, DemoSettings settings)
    {
        var measured = clocks.Where(clock => clock.Took is not null).Select(clock => clock.Took!.Value).ToList();
        var value = measured.Count == 0 ? "-" : $"max {Durations.Format(measured.Max())}, avg {Durations.Format(measured.Aggregate(TimeSpan.Zero, (sum, took) => sum + took) / measured.Count)}";
        var from = settings.StopSignal;
        var perSilo = clocks.Select(clock => clock switch
        {
            { Turns: 0 } => $"{clock.Silo} ran none",
            { Took: { } took } => $"{clock.Silo} {Durations.Format(took)} ({clock.Turns} turns)",
            _ => $"{clock.Silo} never all ({clock.Turns} turns)",
        });
        _rows.Add(("time to resume", value, $"from a silo's {from} until every turn it ran runs again or is done: {string.Join(", ", perSilo)}"));
    }

    private static string? LostBecause(PostedTurn posted, SessionRead? read)
    {
        if (read is null)
        {
            return $"{posted.SessionId} (no silo could read it)";
        }

        if (read.Session is not { } session)
        {
            return $"{posted.SessionId} (the session vanished)";
        }

        return session.Turns.FirstOrDefault(turn => turn.TurnId == posted.TurnId) switch
        {
            null => $"{posted.SessionId} (turn {posted.TurnId} vanished)",
            { IsCompleted: true } => null,
            var turn => $"{posted.SessionId} (turn {turn.TurnId} {turn.Status} at step {turn.StepsDone}/{turn.StepsTotal}, session {session.Phase})",
        };
    }

    private static IEnumerable<string> DuplicatedBecause(SessionResponse session, DemoSettings settings, IReadOnlyList<PostedTurn> posted,
        int explainedStarts)
    {
        // Each demo session holds one turn: every start of it after the first must be a resume claim's.
        var executions = session.Turns.Sum(turn => turn.Executions);
        if (executions > explainedStarts)
        {
            yield return $"{session.SessionId} ({executions} starts, {explainedStarts} explained by its history)";
        }

        var messageId = posted.First(turn => turn.SessionId == session.SessionId).MessageId;
        var forMessage = session.Turns.Count(turn => turn.MessageId == messageId);
        if (forMessage > 1)
        {
            yield return $"{session.SessionId} ({forMessage} turns for message {messageId})";
        }

        foreach (var turn in session.Turns)
        {
            if (turn.StepsDone > turn.StepsTotal)
            {
                yield return $"{session.SessionId} (turn {turn.TurnId} ran {turn.StepsDone} of {turn.StepsTotal} steps)";
            }
            else if (turn.IsCompleted && turn.Reply != settings.ExpectedReply)
            {
                yield return $"{session.SessionId} (turn {turn.TurnId} replied '{turn.Reply}')";
            }
        }
    }

    private static string ByReason(IReadOnlyDictionary<string, string> marks) =>
        marks.Count == 0 ? "" : ": " + string.Join(", ", marks.Values.GroupBy(reason => reason).OrderBy(group => group.Key).Select(group => $"{group.Key} {group.Count()}"));

    private static string Name(IEnumerable<string> items)
    {
        var all = items.ToList();
        return string.Join(", ", all.Take(NamedAtMost)) + (all.Count > NamedAtMost ? $" and {all.Count - NamedAtMost} more" : "");
    }
}
