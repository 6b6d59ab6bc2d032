using System.Globalization;

namespace OrleansGateway.Benchmarks;

/// <summary>What a goal limits: the ratio against the baseline, or the value itself.</summary>
internal enum GoalKind
{
    Ratio,
    Absolute,
}

/// <summary>
/// One line of the final table. <paramref name="Value"/> is null when the measured thing did not happen within the
/// benchmark's patience (<paramref name="Note"/> says what was seen): the goal is then missed, not an error.
/// </summary>
internal sealed record Measurement(
    string Name,
    TimeSpan? Value,
    TimeSpan Baseline,
    string BaselineName,
    GoalKind GoalKind,
    double Goal,
    string? Note = null)
{
    public double? Ratio => Value is { } value && Baseline > TimeSpan.Zero ? value / Baseline : null;

    public bool Met => GoalKind switch
    {
        GoalKind.Ratio => Ratio is { } ratio && ratio <= Goal,
        _ => Value is { } value && value.TotalSeconds <= Goal,
    };

    public string GoalText => GoalKind == GoalKind.Ratio
        ? $"ratio <= {Goal.ToString("0.0#", CultureInfo.InvariantCulture)}x"
        : $"<= {Goal.ToString("0.#", CultureInfo.InvariantCulture)} s";
}

internal static class Samples
{
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

    public static void Print(IReadOnlyList<Measurement> measurements, TextWriter output)
    {
        string[] header = ["measurement", "value", "baseline", "ratio", "goal", "met"];
        var rows = measurements.Select(m => new[]
        {
            m.Name,
            Format(m.Value),
            Format(m.Baseline),
            m.Ratio is { } ratio ? $"{ratio.ToString("0.00", CultureInfo.InvariantCulture)}x" : "-",
            m.GoalText,
            m.Met ? "yes" : "NO",
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
