namespace OrleansGateway.Dashboard.Hosting;

/// <summary>The <c>Dashboard</c> configuration section: who may use the dashboard.</summary>
public sealed class DashboardSettings
{
    public const string Section = "Dashboard";

    /// <summary>The name under which the single <see cref="OperatorToken"/> acts (in the audit trail).</summary>
    public const string DefaultTokenName = "operator";

    /// <summary>A bearer token, named <see cref="DefaultTokenName"/>.</summary>
    public string? OperatorToken { get; set; }

    /// <summary>More tokens, by the name that the audit trail records for what they do (<c>Dashboard:OperatorTokens:alice</c>).</summary>
    public Dictionary<string, string> OperatorTokens { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Lets anyone read (every GET) without a token; acting (every POST) still needs one.</summary>
    public bool AllowAnonymousReadOnly { get; set; }

    /// <summary>Every configured token by its name; empty values are not tokens.</summary>
    public IReadOnlyDictionary<string, string> NamedTokens()
    {
        var tokens = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrWhiteSpace(OperatorToken))
        {
            tokens[DefaultTokenName] = OperatorToken.Trim();
        }

        foreach (var (name, token) in OperatorTokens)
        {
            if (!string.IsNullOrWhiteSpace(token))
            {
                tokens[name] = token.Trim();
            }
        }

        return tokens;
    }

    /// <summary>Every problem with these settings, one sentence each; empty when they are usable.</summary>
    public IEnumerable<string> Validate()
    {
        var tokens = NamedTokens();
        if (tokens.Count == 0 && !AllowAnonymousReadOnly)
        {
            yield return "no operator token is configured (set Dashboard:OperatorToken or Dashboard:OperatorTokens:<name>, " +
                "or Dashboard:AllowAnonymousReadOnly=true for a read-only dashboard)";
        }

        // One token under two names would make the audit trail name the wrong person.
        foreach (var shared in tokens.GroupBy(pair => pair.Value, StringComparer.Ordinal).Where(group => group.Count() > 1))
        {
            yield return $"the operator tokens {string.Join(" and ", shared.Select(pair => pair.Key).Order(StringComparer.Ordinal))} are the same token";
        }
    }
}
