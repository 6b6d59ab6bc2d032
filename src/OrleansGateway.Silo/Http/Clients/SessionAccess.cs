using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using OrleansGateway.Storage;

namespace OrleansGateway.Http.Clients;

/// <summary>
/// Whether a client may use a session: only the client it belongs to may, and to every other one it does not exist.
/// A session belongs to the client that first posted to it (a session of the open API, to the first client that posts to
/// it afterwards). Always true while the API is open.
/// </summary>
public sealed class SessionAccess(ApiClientKeys keys, SessionClients clients) : IDisposable
{
    private const int CachedSessions = 100_000;

    // A session's client never changes once written, so what was read once stays true: no expiry, only a bound.
    private readonly MemoryCache _owners = new(new MemoryCacheOptions { SizeLimit = CachedSessions });

    /// <summary>Whether <paramref name="user"/> may read or command the session.</summary>
    public async ValueTask<bool> MayUseAsync(ClaimsPrincipal user, string sessionId, CancellationToken cancellationToken) =>
        !keys.Required || ClientOf(user) is { } client && client == await OwnerAsync(sessionId, claimFor: null, cancellationToken);

    /// <summary>Whether <paramref name="user"/> may post to the session, which then belongs to it if it belonged to nobody.</summary>
    public async ValueTask<bool> MayPostAsync(ClaimsPrincipal user, string sessionId, CancellationToken cancellationToken) =>
        !keys.Required || ClientOf(user) is { } client && client == await OwnerAsync(sessionId, claimFor: client, cancellationToken);

    private async ValueTask<string?> OwnerAsync(string sessionId, string? claimFor, CancellationToken cancellationToken)
    {
        if (_owners.TryGetValue(sessionId, out string? cached))
        {
            return cached;
        }

        var owner = claimFor is null
            ? await clients.FindAsync(sessionId, cancellationToken)
            : await clients.ClaimAsync(sessionId, claimFor, cancellationToken);
        if (owner is not null)
        {
            _owners.Set(sessionId, owner, new MemoryCacheEntryOptions { Size = 1 });
        }

        return owner;
    }

    private static string? ClientOf(ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, Name: { } name } ? name : null;

    public void Dispose() => _owners.Dispose();
}
