using System.Globalization;
using Microsoft.AspNetCore.Http;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.ServiceDefaults;

/// <summary>
/// Reads query parameters with a sentence for each bad one, for a 400 that says what to fix: the silo's session API and
/// the dashboard's operator API read theirs alike.
/// </summary>
public static class QueryParameters
{
    /// <summary>The parameter's one value, null when absent or empty; an error when it is given twice.</summary>
    public static bool TryGet(IQueryCollection query, string name, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!query.TryGetValue(name, out var values) || values.Count == 0)
        {
            return true;
        }

        if (values.Count > 1)
        {
            error = $"{name} is given {values.Count} times; give it once";
            return false;
        }

        value = string.IsNullOrWhiteSpace(values[0]) ? null : values[0]!.Trim();
        return true;
    }

    public static bool TryGetInt(IQueryCollection query, string name, int min, int max, int fallback, out int value, out string? error)
    {
        value = fallback;
        if (!TryGet(query, name, out var text, out error))
        {
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) || value < min || value > max)
        {
            error = $"{name} must be a whole number from {min} to {max}, not '{text}'";
            return false;
        }

        return true;
    }

    /// <summary>A turn id (<see cref="TurnIds"/>): the cursor of a page of turns.</summary>
    public static bool TryGetTurnId(IQueryCollection query, string name, out string? value, out string? error)
    {
        if (!TryGet(query, name, out value, out error))
        {
            return false;
        }

        if (value is not null && !TurnIds.TryParse(value, out _))
        {
            error = $"{name} must be {TurnIds.Rule}, not '{value}'";
            value = null;
            return false;
        }

        return true;
    }

    public static bool TryGetEventCursor(IQueryCollection query, string name, out EventCursor? value, out string? error)
    {
        value = null;
        if (!TryGet(query, name, out var text, out error))
        {
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!EventCursor.TryParse(text, out var cursor))
        {
            error = $"{name} must be the `last` cursor of an earlier answer (like 7310-815), not '{text}'";
            return false;
        }

        value = cursor;
        return true;
    }

    public static bool TryGetBool(IQueryCollection query, string name, out bool? value, out string? error)
    {
        value = null;
        if (!TryGet(query, name, out var text, out error))
        {
            return false;
        }

        switch (text?.ToLowerInvariant())
        {
            case null:
                return true;
            case "true":
                value = true;
                return true;
            case "false":
                value = false;
                return true;
            default:
                error = $"{name} must be true or false, not '{text}'";
                return false;
        }
    }
}
