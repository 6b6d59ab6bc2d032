using Microsoft.Extensions.Options;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Http.Clients;

/// <summary>The clients' keys as hashes; <see cref="Required"/> when any client is configured.</summary>
public sealed class ApiClientKeys(IOptions<ApiClientOptions> options)
{
    private readonly HashedSecrets _keys = new(options.Value.Clients.Select(pair => (pair.Key, pair.Value.HashOrNull()!)));

    /// <summary>Whether the session API asks for a key: false is an open API, for local development.</summary>
    public bool Required => _keys.Count > 0;

    /// <summary>The client whose key is <paramref name="presented"/>, or null when it is nobody's.</summary>
    public string? ClientOf(string presented) => _keys.NameOf(presented);
}
