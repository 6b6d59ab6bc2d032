using System.Globalization;

namespace OrleansGateway.Agents;

public enum StepTraceEvent
{
    Start,
    End,
}

/// <summary>
/// One line of the scripted agent's step trace (<c>Gateway:Agent:StepTrace</c>): a step of a turn starting or ending in
/// one execution of it. The chaos soak reads the traces of every silo to prove that no two executions of a turn ever
/// ran a step at the same time.
/// </summary>
/// <param name="Execution">Who ran it: the silo, the activation and the ledger epoch it held (<c>silo/activation/epoch</c>).</param>
/// <param name="Outcome">For an end: <c>continue</c>, <c>complete</c>, <c>cancelled</c> or <c>failed</c>; empty for a start.</param>
public sealed record StepTraceEntry(DateTimeOffset At, StepTraceEvent Event, string SessionId, string TurnId, int Step, string Execution,
    int ProcessId, string Outcome = "")
{
    private const char Separator = '\t';

    /// <summary>One line, tab-separated (ids cannot hold a tab): time, event, session, turn, step, execution, pid, outcome.</summary>
    public string Format() => string.Join(Separator,
        At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), Event == StepTraceEvent.Start ? "start" : "end", SessionId, TurnId,
        Step.ToString(CultureInfo.InvariantCulture), Execution, ProcessId.ToString(CultureInfo.InvariantCulture), Outcome);

    /// <summary>The entry a line written by <see cref="Format"/> holds; null for a line cut short (its process was killed mid-write).</summary>
    public static StepTraceEntry? TryParse(string line)
    {
        var fields = line.Split(Separator);
        if (fields.Length != 8
            || !DateTimeOffset.TryParse(fields[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            || fields[1] is not ("start" or "end")
            || !int.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var step)
            || !int.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out var processId))
        {
            return null;
        }

        return new StepTraceEntry(at, fields[1] == "start" ? StepTraceEvent.Start : StepTraceEvent.End, fields[2], fields[3], step, fields[5], processId, fields[7]);
    }
}
