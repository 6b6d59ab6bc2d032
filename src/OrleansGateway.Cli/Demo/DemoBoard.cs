using System.Diagnostics;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansGateway.Cli.Demo;

public enum SiloState
{
    Ready,
    Draining,
    Killed,
    Starting,
    Stopped,
}

/// <summary>
/// What the demo is doing and what it sees, for a person to follow: the state of each silo, what happens now,
/// the log of what happened, and the sessions' phases and progress (from <see cref="SessionWatch"/>).
/// </summary>
public sealed class DemoBoard(DemoSettings settings, Stopwatch clock)
{
    private const int LogLinesShown = 8;
    private readonly Lock _gate = new();
    private readonly List<(TimeSpan At, string Text)> _log = [];
    private readonly List<string> _siloOrder = [];
    private readonly Dictionary<string, (SiloState State, Uri Address)> _silos = [];

    public SessionWatch? Watch { get; set; }

    /// <summary>The Active silos by version, when the demo follows them (an upgrade); null otherwise.</summary>
    public string? Versions { get; set; }

    /// <summary>Silos to send requests to now: ready, not stopping or starting.</summary>
    public IReadOnlyList<Uri> ServingSilos()
    {
        lock (_gate)
        {
            return [.. _siloOrder.Select(name => _silos[name]).Where(silo => silo.State == SiloState.Ready).Select(silo => silo.Address)];
        }
    }

    public void SetSilo(string name, SiloState state, Uri address)
    {
        lock (_gate)
        {
            if (!_silos.ContainsKey(name))
            {
                _siloOrder.Add(name);
            }

            _silos[name] = (state, address);
        }
    }

    /// <summary>Records what the demo does now; it shows as the current action and stays in the log.</summary>
    public void Say(string text)
    {
        lock (_gate)
        {
            _log.Add((clock.Elapsed, text));
        }
    }

    /// <summary>Log entries from <paramref name="first"/> on, for displays that print each once.</summary>
    public IReadOnlyList<(TimeSpan At, string Text)> LogFrom(int first)
    {
        lock (_gate)
        {
            return first >= _log.Count ? [] : _log[first..];
        }
    }

    /// <summary>The live view: a panel redrawn in place.</summary>
    public IRenderable Render()
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Markup("[grey]time[/]"), new Text($"{clock.Elapsed.TotalSeconds:0.0} s"));
        grid.AddRow(new Markup("[grey]silos[/]"), new Markup(string.Join("   ", Silos().Select(silo => $"{silo.Name} {Colored(silo.State)}"))));
        if (Versions is { } versions)
        {
            grid.AddRow(new Markup("[grey]versions[/]"), new Text(versions));
        }

        grid.AddRow(new Markup("[grey]phases[/]"), new Text(Phases()));
        var (done, total, completed) = Progress();
        grid.AddRow(new Markup("[grey]steps[/]"), new Markup($"{Bar(done, total)} {done}/{total}   turns completed {completed}/{settings.Sessions}"));
        grid.AddRow(new Markup("[grey]resume[/]"), new Text(Marks()));
        if (Watch?.LedgerProblem is { } problem)
        {
            grid.AddRow(new Markup("[grey]ledger[/]"), new Markup($"[yellow]{Markup.Escape(problem)}[/]"));
        }

        var log = LogFrom(0);
        grid.AddEmptyRow();
        foreach (var (at, text) in log.TakeLast(LogLinesShown))
        {
            grid.AddRow(new Markup($"[grey]{at.TotalSeconds,6:0.0} s[/]"), new Text(text));
        }

        return new Panel(grid).Header(Markup.Escape(settings.Title)).Expand();
    }

    /// <summary>The same in one line, for output that is not a terminal.</summary>
    public string StatusLine()
    {
        var (done, total, completed) = Progress();
        var versions = Versions is { } active ? $"{active} | " : "";
        return $"{clock.Elapsed.TotalSeconds,6:0.0} s  | {versions}{Phases()} | steps {done}/{total}, turns completed {completed}/{settings.Sessions} | {Marks()}";
    }

    private List<(string Name, SiloState State)> Silos()
    {
        lock (_gate)
        {
            return [.. _siloOrder.Select(name => (name, _silos[name].State))];
        }
    }

    private string Phases()
    {
        var rows = Watch?.Rows ?? new Dictionary<string, LedgerRow>();
        var counts = Enum.GetValues<SessionPhase>()
            .Select(phase => (phase, count: rows.Values.Count(row => row.Phase == phase)))
            .Where(pair => pair.count > 0)
            .Select(pair => $"{pair.phase.ToName()} {pair.count}");
        return string.Join(", ", counts.DefaultIfEmpty("no ledger rows yet"));
    }

    private (int Done, int Total, int Completed) Progress()
    {
        var documents = Watch?.Documents.Values.ToList() ?? [];
        var turns = documents.SelectMany(document => document.Turns).ToList();
        return (turns.Sum(turn => turn.StepsDone), settings.Sessions * settings.Steps, turns.Count(turn => turn.IsCompleted));
    }

    private string Marks()
    {
        if (Watch is not { } watch)
        {
            return "";
        }

        var resumes = watch.Documents.Values.SelectMany(document => document.Turns).Sum(turn => Math.Max(0, turn.Executions - 1));
        return $"premarked {watch.Premarked.Count}, other marks {watch.OtherMarks.Count}, resumes {resumes}, quarantined {watch.Quarantined.Count}";
    }

    private static string Bar(int done, int total)
    {
        const int width = 30;
        var filled = total == 0 ? 0 : Math.Clamp(done * width / total, 0, width);
        return $"[green]{new string('█', filled)}[/][grey]{new string('░', width - filled)}[/]";
    }

    private static string Colored(SiloState state) => state switch
    {
        SiloState.Ready => "[green]ready[/]",
        SiloState.Draining => "[yellow]draining[/]",
        SiloState.Killed => "[red]killed[/]",
        SiloState.Stopped => "[grey]stopped[/]",
        _ => "[blue]starting[/]",
    };
}
