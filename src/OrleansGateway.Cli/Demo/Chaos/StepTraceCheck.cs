using OrleansGateway.Agents;

namespace OrleansGateway.Cli.Demo.Chaos;

/// <summary>A process frozen by SIGSTOP from <paramref name="From"/> until its SIGCONT at <paramref name="Until"/>.</summary>
public sealed record Freeze(int ProcessId, DateTimeOffset From, DateTimeOffset Until);

/// <summary>What the step traces of a soak show: overlapping executions (violations) and the frozen steps that finished on waking.</summary>
public sealed record StepTraceFindings(IReadOnlyList<string> Overlaps, IReadOnlyList<string> StepsAfterWaking, int FrozenTails,
    IReadOnlyDictionary<(string SessionId, string TurnId), int> Executions);

/// <summary>
/// Reads the scripted agent's step traces (<see cref="StepTraceEntry"/>) and checks that no two executions of a turn ran a
/// step at the same time. A step's span runs from its start to its end; a step without an end ran until its process
/// ended (a SIGKILL), or runs still. Time a process spent frozen is not running time.
/// </summary>
/// <remarks>
/// A process frozen in the middle of a step finishes that step's code when it wakes (here, a sleep that is already
/// over), while the execution that took the turn over may be running: no process can help that. What the gateway
/// promises is that such a tail changes nothing (its checkpoint is fenced off) and that the woken execution starts no
/// further step. So the tail after a SIGCONT is counted apart, and a step started after it is a violation.
/// </remarks>
public static class StepTraceCheck
{
    public static IReadOnlyList<StepTraceEntry> Read(string folder) =>
        Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*.steps").SelectMany(ReadShared).Select(StepTraceEntry.TryParse).OfType<StepTraceEntry>()]
            : [];

    /// <param name="exits">When each process that has ended did so, as the soak saw it.</param>
    /// <param name="now">The end of the spans of steps still running.</param>
    public static StepTraceFindings Check(IReadOnlyList<StepTraceEntry> entries, IReadOnlyList<Freeze> freezes,
        IReadOnlyDictionary<int, DateTimeOffset> exits, DateTimeOffset now)
    {
        var overlaps = new List<string>();
        var afterWaking = new List<string>();
        var tails = 0;
        var executions = new Dictionary<(string, string), int>();
        foreach (var turn in entries.GroupBy(e => (e.SessionId, e.TurnId)))
        {
            var spans = new List<Span>();
            foreach (var execution in turn.GroupBy(e => e.Execution))
            {
                foreach (var step in Steps(execution.OrderBy(e => e.At), exits, now))
                {
                    var frozen = freezes.Where(f => f.ProcessId == step.Start.ProcessId && f.From < step.End && f.Until > step.Start.At).ToList();
                    var from = step.Start.At;
                    foreach (var freeze in frozen.OrderBy(f => f.From))
                    {
                        spans.Add(new Span(from, freeze.From, step.Start));
                        from = freeze.Until;
                    }

                    if (frozen.Count == 0)
                    {
                        spans.Add(new Span(from, step.End, step.Start));
                    }
                    else
                    {
                        tails++;
                    }
                }

                var woke = freezes.Where(f => execution.Any(e => e.ProcessId == f.ProcessId)).Select(f => f.Until).DefaultIfEmpty().Max();
                afterWaking.AddRange(execution.Where(e => e.Event == StepTraceEvent.Start && woke != default && e.At > woke)
                    .Select(e => $"session {e.SessionId} turn {e.TurnId}: {e.Execution} started step {e.Step + 1} after its process woke from SIGSTOP ({e.At:HH:mm:ss.fff})"));
            }

            executions[turn.Key] = turn.Select(e => e.Execution).Distinct().Count();
            overlaps.AddRange(Overlapping(spans));
        }

        return new StepTraceFindings(overlaps, afterWaking, tails, executions);
    }

    private sealed record Span(DateTimeOffset From, DateTimeOffset Until, StepTraceEntry Start);

    private sealed record Step(StepTraceEntry Start, DateTimeOffset End);

    /// <summary>Each start with its end: the next entry of the execution, else the exit of its process, else now.</summary>
    private static IEnumerable<Step> Steps(IEnumerable<StepTraceEntry> execution, IReadOnlyDictionary<int, DateTimeOffset> exits, DateTimeOffset now)
    {
        StepTraceEntry? open = null;
        foreach (var entry in execution)
        {
            if (open is not null)
            {
                yield return new Step(open, entry.At);
            }

            open = entry.Event == StepTraceEvent.Start ? entry : null;
        }

        if (open is not null)
        {
            yield return new Step(open, exits.TryGetValue(open.ProcessId, out var exited) ? exited : now);
        }
    }

    private static IEnumerable<string> Overlapping(List<Span> spans)
    {
        Span? latest = null;
        foreach (var span in spans.OrderBy(s => s.From))
        {
            if (latest is not null && span.From < latest.Until)
            {
                var (a, b) = (latest.Start, span.Start);
                yield return $"session {a.SessionId} turn {a.TurnId}: step {a.Step + 1} of {a.Execution} and step {b.Step + 1} of {b.Execution} " +
                    $"ran at the same time ({span.From:HH:mm:ss.fff} to {(span.Until < latest.Until ? span.Until : latest.Until):HH:mm:ss.fff})";
            }

            if (latest is null || span.Until > latest.Until)
            {
                latest = span;
            }
        }
    }

    // The silos append while the soak reads.
    private static IEnumerable<string> ReadShared(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
