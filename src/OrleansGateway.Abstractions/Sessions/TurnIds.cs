using System.Globalization;

namespace OrleansGateway.Sessions;

/// <summary>Turn ids number a session's turns: <c>t1</c>, <c>t2</c>, ... in arrival order, never reused.</summary>
public static class TurnIds
{
    public const string Rule = "a turn id: t followed by a number from 1 (t1, t2, ...)";

    public static string Format(int number) => string.Create(CultureInfo.InvariantCulture, $"t{number}");

    public static bool TryParse(string? turnId, out int number)
    {
        number = 0;
        return turnId is ['t', '1' or '2' or '3' or '4' or '5' or '6' or '7' or '8' or '9', ..]
            && int.TryParse(turnId.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>The number of a turn id this gateway wrote; throws on anything else.</summary>
    public static int Parse(string turnId) =>
        TryParse(turnId, out var number) ? number : throw new FormatException($"'{turnId}' is not {Rule}");
}
