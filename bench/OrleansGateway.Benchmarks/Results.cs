using System.Globalization;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// What a goal limits: the ratio against the baseline (at most <see cref="Ratio"/>, at least <see cref="MinRatio"/>, for a
/// rate where more is better), or the value itself; or nothing (a row that explains others).
/// </summary>
internal enum GoalKind
{
    Ratio,
    MinRatio,
    Absolute,
    None,
}

/// <summary>
/// What a measurement counts: elapsed time (in seconds), things such as interruptions and lost turns, bytes, or
/// things per second (messages, transactions).
/// </summary>
internal enum MeasuredIn
{
    Seconds,
    Count,
    Bytes,
    PerSecond,
}

/// <summary>
/// One line of the final table. <paramref name="Value"/> is null when the measured thing did not happen within the
/// benchmark's patience (<paramref name="Note"/> says what was seen): the goal is then missed, not an error.
/// </summary>
internal sealed record Measurement(
    string Name,
    double? Value,
    double Baseline,
    string BaselineName,
    GoalKind GoalKind,
    double Goal,
    string? Note,
    MeasuredIn Unit)
{
    public Measurement(string name, TimeSpan? value, TimeSpan baseline, string baselineName, GoalKind goalKind, double goal, string? note = null)
        : this(name, value?.TotalSeconds, baseline.TotalSeconds, baselineName, goalKind, goal, note, MeasuredIn.Seconds)
    {
    }

    public string ValueText => ResultTable.Format(Value, Unit);

    public string BaselineText => ResultTable.Format(Baseline, Unit);

    /// <summary>
    /// False when the baseline is not the same quantity as the value (a whole heap next to bytes per session): the
    /// table then shows no ratio rather than a meaningless one.
    /// </summary>
    public bool Comparable { get; init; } = true;

    public double? Ratio => Comparable && Value is { } value && Baseline > 0 ? value / Baseline : null;

    public bool HasGoal => GoalKind != GoalKind.None;

    public bool Met => GoalKind switch
    {
        GoalKind.Ratio => Ratio is { } ratio && ratio <= Goal,
        GoalKind.MinRatio => Ratio is { } ratio && ratio >= Goal,
        GoalKind.Absolute => Value is { } value && value <= Goal,
        _ => false,
    };

    public string GoalText => GoalKind switch
    {
        GoalKind.Ratio => $"ratio <= {Goal.ToString("0.0#", CultureInfo.InvariantCulture)}x",
        GoalKind.MinRatio => $"ratio >= {Goal.ToString("0.0#", CultureInfo.InvariantCulture)}x",
        GoalKind.Absolute when Unit == MeasuredIn.Count => $"<= {Goal.ToString("0.#", CultureInfo.InvariantCulture)}",
        GoalKind.Absolute when Unit is MeasuredIn.Bytes or MeasuredIn.PerSecond => $"<= {ResultTable.Format(Goal, Unit)}",
        GoalKind.Absolute => $"<= {Goal.ToString("0.###", CultureInfo.InvariantCulture)} s",
        _ => "-",
    };
}

internal static class Samples
{
    /// <summary>The nearest-rank percentile (<paramref name="percent"/> of 100); null for no values.</summary>
    public static TimeSpan? Percentile(IEnumerable<TimeSpan> values, double percent)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The median: one slow run (a checkpoint, a busy neighbour) moves it less than the mean.</summary>
    public static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

internal static class ResultTable
{
    public static string Format(TimeSpan? value) => value switch
    {
        null => "timed out",
        { TotalMilliseconds: < 1000 } v => $"{v.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms",
        { } v => $"{v.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s",
    };

    public static string Format(double? value, MeasuredIn unit) => unit switch
    {
        MeasuredIn.Count => value is { } count ? count.ToString("0.##", CultureInfo.InvariantCulture) : "n/a",
        // Whole bytes below 1 MiB (a per-session size is read to the byte), MiB above (a whole heap).
        MeasuredIn.Bytes => value switch
        {
            null => "n/a",
            < 1024 * 1024 and > -1024 * 1024 => $"{value.Value.ToString("0", CultureInfo.InvariantCulture)} B",
            _ => $"{(value.Value / (1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
        },
        MeasuredIn.PerSecond => value is { } rate ? $"{rate.ToString("0.0", CultureInfo.InvariantCulture)}/s" : "n/a",
        _ => Format(value is { } seconds ? TimeSpan.FromSeconds(seconds) : null),
    };

    public static void Print(IReadOnlyList<Measurement> measurements, TextWriter output)
    {
        string[] header = ["measurement", "value", "baseline", "ratio", "goal", "met"];
        var rows = measurements.Select(m => new[]
        {
            m.Name,
            m.ValueText,
            m.BaselineText,
            m.Ratio is { } ratio ? $"{ratio.ToString("0.00", CultureInfo.InvariantCulture)}x" : "-",
            m.GoalText,
            !m.HasGoal ? "-" : m.Met ? "yes" : "NO",
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i is 0 or 4 or 5 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();

        output.WriteLine(Line(header));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            output.WriteLine(Line(row));
        }

        output.WriteLine();
        output.WriteLine("baselines:");
        foreach (var m in measurements)
        {
            output.WriteLine($"  {m.Name}: {m.BaselineName}");
        }

        var notes = measurements.Where(m => m.Note is not null).ToList();
        if (notes.Count > 0)
        {
            output.WriteLine("notes:");
            foreach (var m in notes)
            {
                output.WriteLine($"  {m.Name}: {m.Note}");
            }
        }
    }
}
