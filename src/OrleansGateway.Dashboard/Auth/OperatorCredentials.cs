using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Auth;

/// <summary>Where a request carries its operator token.</summary>
public static class OperatorCredentials
{
    /// <summary>
    /// The cookie that carries the token to the official Orleans dashboard under <see cref="OrleansDashboardSignIn.Path"/>:
    /// its page and scripts are not ours and cannot send an Authorization header. HttpOnly, SameSite=Strict and limited to
    /// that path, so it authenticates neither the operator API nor a request from another site.
    /// </summary>
    public const string CookieName = "ogw_operator_token";

    /// <summary>
    /// The token a request presents: the <c>Authorization: Bearer</c> header, or the cookie for the Orleans dashboard's
    /// paths. Null when it presents none; empty when the header is there but is not a bearer token.
    /// </summary>
    public static string? Read(HttpRequest request)
    {
        if (HashedSecrets.ReadBearer(request) is { } bearer)
        {
            return bearer;
        }

        return request.Path.StartsWithSegments(OrleansDashboardSignIn.Path) && request.Cookies.TryGetValue(CookieName, out var cookie)
            ? cookie
            : null;
    }
}
