using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Auth;

/// <summary>The configured operator tokens, each with the name that the audit trail records for what it does.</summary>
public sealed class OperatorTokenStore(DashboardSettings settings)
{
    private readonly HashedSecrets _tokens = new(settings.NamedTokens().Select(pair => (pair.Key, HashedSecrets.Hash(pair.Value))));

    public bool AllowAnonymousReadOnly { get; } = settings.AllowAnonymousReadOnly;

    public int Count => _tokens.Count;

    /// <summary>The name of the token <paramref name="presented"/>, or null when it is none of them.</summary>
    public string? NameOf(string presented) => _tokens.NameOf(presented);
}
