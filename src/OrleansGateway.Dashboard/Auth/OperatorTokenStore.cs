using System.Security.Cryptography;
using System.Text;
using OrleansGateway.Dashboard.Hosting;

namespace OrleansGateway.Dashboard.Auth;

/// <summary>The configured operator tokens, each with the name that the audit trail records for what it does.</summary>
public sealed class OperatorTokenStore
{
    // Compared as SHA-256 hashes in constant time: how long a comparison takes says nothing about the token.
    private readonly (string Name, byte[] Hash)[] _tokens;

    public OperatorTokenStore(DashboardSettings settings)
    {
        _tokens = [.. settings.NamedTokens().Select(pair => (pair.Key, Hash(pair.Value)))];
        AllowAnonymousReadOnly = settings.AllowAnonymousReadOnly;
    }

    public bool AllowAnonymousReadOnly { get; }

    public int Count => _tokens.Length;

    /// <summary>The name of the token <paramref name="presented"/>, or null when it is none of them.</summary>
    public string? NameOf(string presented)
    {
        var hash = Hash(presented);
        string? name = null;
        foreach (var token in _tokens)
        {
            // No early exit: every token is compared.
            if (CryptographicOperations.FixedTimeEquals(token.Hash, hash))
            {
                name = token.Name;
            }
        }

        return name;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
