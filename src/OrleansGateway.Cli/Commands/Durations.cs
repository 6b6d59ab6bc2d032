using System.Globalization;
using System.Text.RegularExpressions;

namespace OrleansGateway.Cli.Commands;

/// <summary>Durations as people type them on a command line: <c>5s</c>, <c>500ms</c>, <c>1.5s</c>, <c>2m</c>, or <c>00:00:05</c>.</summary>
public static partial class Durations
{
    /// <summary>The duration <paramref name="text"/> names; a <see cref="CliError"/> naming <paramref name="option"/> when it names none.</summary>
    public static TimeSpan Parse(string text, string option)
    {
        var match = Pattern().Match(text);
        if (match.Success && double.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return match.Groups["unit"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(number),
                "m" => TimeSpan.FromMinutes(number),
                _ => TimeSpan.FromSeconds(number),
            };
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero
            ? span
            : throw CliError.Usage($"{option} '{text}' is not a duration (examples: 5s, 500ms, 1.5s, 2m)");
    }

    /// <summary>Short and readable: <c>500 ms</c>, <c>5 s</c>, <c>2.5 s</c>.</summary>
    public static string Format(TimeSpan duration) =>
        duration < TimeSpan.FromSeconds(1) ? $"{duration.TotalMilliseconds:0} ms" : $"{duration.TotalSeconds:0.#} s";

    [GeneratedRegex(@"^\s*(?<number>\d+(\.\d+)?)\s*(?<unit>ms|s|m)?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
