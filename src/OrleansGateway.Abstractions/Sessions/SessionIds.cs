using System.Text.RegularExpressions;

namespace OrleansGateway.Sessions;

/// <summary>
/// The one rule for session and message ids, checked by the silo's API, the dashboard's and <c>ogw</c>: 1–128 characters
/// of <c>[A-Za-z0-9._:-]</c>, the whole string (<c>\z</c>: .NET's <c>$</c> also matches before a final newline).
/// </summary>
public static partial class SessionIds
{
    /// <summary>The rule in words, for error messages.</summary>
    public const string Rule = "1-128 characters of A-Z a-z 0-9 . _ : -";

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    [GeneratedRegex(@"\A[A-Za-z0-9._:-]{1,128}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
