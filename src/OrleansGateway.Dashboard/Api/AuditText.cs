using System.Globalization;
using System.Text;

namespace OrleansGateway.Dashboard.Api;

/// <summary>
/// Text from a request (a session id or a silo address that did not pass its check) as the audit trail and the logs
/// record it: at most <see cref="MaxLength"/> characters, with control, format and separator characters, unpaired
/// surrogates and the backslash escaped (<c>\n</c>, <c>\u202e</c>, <c>\\</c>), so that no line of a log or an audit entry
/// can be forged or made huge by it.
/// </summary>
public static class AuditText
{
    public const int MaxLength = 128;

    public static string Bounded(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxLength) + 16);
        var end = Math.Min(text.Length, MaxLength);
        for (var i = 0; i < end; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (c == '\\')
            {
                builder.Append(@"\\");
            }
            else if (c == '\n')
            {
                builder.Append(@"\n");
            }
            else if (c == '\r')
            {
                builder.Append(@"\r");
            }
            else if (c == '\t')
            {
                builder.Append(@"\t");
            }
            else if (char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
                         or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        if (text.Length > MaxLength)
        {
            builder.Append(CultureInfo.InvariantCulture, $"... ({text.Length} characters)");
        }

        return builder.ToString();
    }
}
