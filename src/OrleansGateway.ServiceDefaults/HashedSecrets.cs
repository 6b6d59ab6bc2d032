using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace OrleansGateway.ServiceDefaults;

/// <summary>
/// Named secrets (operator tokens, API client keys) kept as SHA-256 hashes and compared in constant time: how long a
/// comparison takes says nothing about a secret, and the process holds no secret in the clear once it has started.
/// </summary>
public sealed class HashedSecrets
{
    private readonly (string Name, byte[] Hash)[] _secrets;

    public HashedSecrets(IEnumerable<(string Name, byte[] Hash)> secrets) => _secrets = [.. secrets];

    public int Count => _secrets.Length;

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>The name of the secret <paramref name="presented"/>, or null when it is none of them.</summary>
    public string? NameOf(string presented)
    {
        var hash = Hash(presented);
        string? name = null;
        foreach (var secret in _secrets)
        {
            // No early exit: every secret is compared.
            if (CryptographicOperations.FixedTimeEquals(secret.Hash, hash))
            {
                name = secret.Name;
            }
        }

        return name;
    }

    /// <summary>
    /// The secret of an <c>Authorization: Bearer</c> header: null without the header, empty when it is not a bearer token.
    /// </summary>
    public static string? ReadBearer(HttpRequest request)
    {
        if (request.Headers.Authorization is not { Count: > 0 } header)
        {
            return null;
        }

        var value = header.ToString();
        const string prefix = "Bearer ";
        return value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? value[prefix.Length..].Trim() : "";
    }
}
