using System.Text;
using System.Text.Json;

namespace OrleansGateway.Operations;

/// <summary>
/// The reason of an error answer of either API, whichever release wrote it: the <c>error</c> member, which both release
/// 0.1's <c>{"error": "..."}</c> and the problems (<c>application/problem+json</c>) of later releases have.
/// </summary>
public static class ApiErrorText
{
    /// <summary>The <c>error</c> of an error body, on one line; null when the body is not one.</summary>
    public static string? Reason(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("error", out var error)
                   && error.ValueKind == JsonValueKind.String
                   && OneLine(error.GetString()!) is { Length: > 0 } text
                ? text
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The status and the reason; the body as it came when it has no <c>error</c> (a proxy's page, say).</summary>
    public static string Describe(int status, string body) => $"{status} {Reason(body) ?? body}";

    /// <summary>A reason fit for a single error line: no line breaks or control characters.</summary>
    private static string OneLine(string text)
    {
        var line = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            line.Append(char.IsControl(c) ? ' ' : c);
        }

        return line.ToString().Trim();
    }
}
