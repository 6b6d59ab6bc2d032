using System.Globalization;
using OrleansGateway.Cli.Commands;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansGateway.Cli.Operator;

/// <summary>The operator API's answers as Spectre.Console tables. Every text from the API is escaped, never markup.</summary>
public static class OperatorTables
{
    /// <summary>Phases in lifecycle order, then what the counts have besides (<c>stale</c>).</summary>
    public static readonly string[] Phases =
    [
        SessionPhaseNames.Idle, SessionPhaseNames.Running, SessionPhaseNames.ResumePending, SessionPhaseNames.Suspended, SessionPhaseNames.Quarantined,
    ];

    private const string Unknown = "?";

    public static void WriteStatus(IReadOnlyList<SiloResponse> silos, IReadOnlyDictionary<string, long> counts)
    {
        if (silos.Count == 0)
        {
            AnsiConsole.WriteLine("No silos in the cluster.");
        }
        else
        {
            var table = new Table().AddColumns("Silo", "Name", "Status", "Draining", "Sessions", "Running turns", "Version");
            foreach (var silo in silos)
            {
                // A dead silo is not asked: nothing to report, and nothing an operator should wonder about (its version is registered).
                var missing = silo.Status == SiloStatuses.Dead ? "-" : Unknown;
                table.AddRow(
                    Plain(silo.Address), Plain(silo.Name), Plain(silo.Status),
                    Plain(silo.Draining switch { null => missing, true => "yes", false => "no" }),
                    Plain(silo.ActiveSessions?.ToString(CultureInfo.InvariantCulture) ?? missing),
                    Plain(silo.RunningTurns?.ToString(CultureInfo.InvariantCulture) ?? missing),
                    Plain(silo.Version ?? missing));
            }

            TableOutput.Write(table);
            if (silos.Any(s => s.Status != SiloStatuses.Dead && (s.Draining is null || s.ActiveSessions is null || s.RunningTurns is null || s.Version is null)))
            {
                AnsiConsole.WriteLine($"{Unknown}: the silo did not answer.");
            }
        }

        var phases = new Table().AddColumns("Phase", "Sessions");
        foreach (var (name, count) in OrderedCounts(counts))
        {
            phases.AddRow(Plain(name), Plain(count.ToString(CultureInfo.InvariantCulture)));
        }

        TableOutput.Write(phases);
    }

    public static void WriteSessions(IReadOnlyList<SessionSummary> sessions, IReadOnlyDictionary<string, long> counts)
    {
        if (sessions.Count == 0)
        {
            AnsiConsole.WriteLine("No sessions match.");
        }
        else
        {
            var table = new Table().AddColumns("Session", "Phase", "Reason", "Owner", "Attempts", "Stale", "Updated (UTC)", "Age", "Last error");
            foreach (var session in sessions)
            {
                table.AddRow(
                    Plain(session.SessionId), Phase(session.Phase), Plain(session.ResumeReason), Plain(session.OwnerSilo),
                    Plain(session.Attempts.ToString(CultureInfo.InvariantCulture)), Plain(session.Stale ? "stale" : ""),
                    Plain(Time(session.UpdatedAt)), Plain(Age(session.AgeSeconds)), Plain(session.LastError));
            }

            TableOutput.Write(table);
        }

        AnsiConsole.WriteLine($"All sessions: {string.Join(", ", OrderedCounts(counts).Select(c => $"{c.Name} {c.Count}"))}");
    }

    public static void WriteSession(SessionDetailResponse report)
    {
        var session = report.Session;
        var fields = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        Field("Session", Plain(session.SessionId));
        Field("Phase", Phase(session.Phase));
        Field("Resume reason", Plain(session.ResumeReason ?? "-"));
        Field("Owner", Plain(session.OwnerSilo ?? "-"));
        Field("Epoch", Plain(session.Epoch.ToString(CultureInfo.InvariantCulture)));
        Field("Active turn", Plain(session.ActiveTurnId ?? "-"));
        Field("Attempts", Plain(session.Attempts.ToString(CultureInfo.InvariantCulture)));
        Field("Stale", Plain(session.Stale ? "yes: the marker is too old to be resumed automatically" : "no"));
        Field("Resume marked", Plain(session.ResumeMarkedAt is { } marked ? $"{Time(marked)} UTC" : "-"));
        Field("Updated", Plain($"{Time(session.UpdatedAt)} UTC ({Age(session.AgeSeconds)} ago)"));
        Field("Last error", Plain(session.LastError ?? "-"));
        TableOutput.Write(fields);

        WriteTurns(session.Turns, session.TurnCount, session.TurnsBefore);

        if (report.History.Count == 0)
        {
            AnsiConsole.WriteLine("No history.");
        }
        else
        {
            var history = new Table().Title("History").AddColumns("Time (UTC)", "Kind", "Silo", "Actor", "Detail");
            foreach (var entry in report.History)
            {
                history.AddRow(Plain(Time(entry.At)), Plain(entry.Kind), Plain(entry.Silo), Plain(entry.Actor),
                    Plain(entry.WaitedSeconds is { } waited ? $"{entry.Detail}, waited {waited.ToString("0.0", CultureInfo.InvariantCulture)} s" : entry.Detail));
            }

            TableOutput.Write(history);
        }

        void Field(string name, IRenderable value) => fields.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), value);
    }

    /// <summary>A page of older turns (<c>ogw session --before</c>), oldest first as in the session's own table.</summary>
    public static void WriteTurnPage(TurnPageResponse page) => WriteTurns([.. page.Turns.Reverse()], page.TurnCount, page.Before);

    /// <param name="turns">Oldest first.</param>
    /// <param name="turnCount">All the session's turns; null when no silo answered.</param>
    /// <param name="older">The cursor of the turns before these; null when they reach the first turn.</param>
    private static void WriteTurns(IReadOnlyList<TurnResponse> turns, int? turnCount, string? older)
    {
        if (turns.Count == 0)
        {
            AnsiConsole.WriteLine(turnCount is > 0 ? $"No turns shown; the session has {turnCount}." : "No turns.");
        }
        else
        {
            var title = turnCount is { } count ? $"Turns {turns[0].TurnId}-{turns[^1].TurnId} of {count}" : "Turns";
            var table = new Table().Title(Markup.Escape(title)).AddColumns("Turn", "Message", "Status", "Steps", "Executions", "Reply");
            foreach (var turn in turns)
            {
                table.AddRow(
                    Plain(turn.TurnId), Plain(turn.MessageId), Plain(turn.Status),
                    Plain(turn.StepsTotal is { } total ? $"{turn.StepsDone}/{total}" : $"{turn.StepsDone}"),
                    Plain(turn.Executions.ToString(CultureInfo.InvariantCulture)), Plain(turn.Reply));
            }

            TableOutput.Write(table);
        }

        if (older is not null)
        {
            AnsiConsole.WriteLine($"Older turns: add --before {older}.");
        }
    }

    public static void WriteSessionChange(SessionCommandResponse change)
    {
        // The contract allows an action that does not know the phase it left (null), though none does so today.
        var session = change.Phase is { } phase ? $"Session {change.SessionId} is {phase}" : $"Session {change.SessionId}";
        AnsiConsole.WriteLine(change.Message is { Length: > 0 } message ? $"{session}: {message}" : $"{session}.");
    }

    public static void WriteSiloChange(SiloAction action, SiloReportResponse change)
    {
        AnsiConsole.WriteLine(action == SiloAction.Restart
            ? $"Silo {change.Address} restarts: it drains, then exits for its supervisor to start it again."
            : $"Silo {change.Address} drains and stops; its sessions resume on the other silos.");
        var fields = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        fields.AddRow("Active", change.Active ? "yes" : "no");
        fields.AddRow("Draining", change.Draining ? "yes" : "no");
        fields.AddRow("Active sessions", change.ActiveSessions.ToString(CultureInfo.InvariantCulture));
        fields.AddRow("Running turns", change.RunningTurns.ToString(CultureInfo.InvariantCulture));
        fields.AddRow(new Text("Version"), Plain(change.Version));
        fields.AddRow(new Text("Next stop"), Plain(change.NextStop));
        TableOutput.Write(fields);
    }

    /// <summary>Seconds as people read an age: <c>42 s</c>, <c>5m 03s</c>, <c>2h 05m</c>, <c>3d 04h</c>.</summary>
    public static string Age(double seconds)
    {
        var age = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return age.TotalMinutes < 1 ? $"{age.TotalSeconds:0} s"
            : age.TotalHours < 1 ? $"{age.Minutes}m {age.Seconds:00}s"
            : age.TotalDays < 1 ? $"{age.Hours}h {age.Minutes:00}m"
            : $"{(int)age.TotalDays}d {age.Hours:00}h";
    }

    private static IEnumerable<(string Name, long Count)> OrderedCounts(IReadOnlyDictionary<string, long> counts) =>
        Phases.Select(phase => (phase, counts.GetValueOrDefault(phase)))
            .Concat(counts.Where(c => !Phases.Contains(c.Key)).OrderBy(c => c.Key == "stale" ? 0 : 1).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value)));

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static Text Plain(string? text) => new(text ?? "");

    private static Text Phase(string phase) => new(phase, phase switch
    {
        SessionPhaseNames.Running => new Style(Color.Green),
        SessionPhaseNames.ResumePending => new Style(Color.Yellow),
        SessionPhaseNames.Quarantined => new Style(Color.Red),
        SessionPhaseNames.Suspended => new Style(Color.Grey),
        _ => Style.Plain,
    });
}
