using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansGateway.ServiceDefaults;

/// <summary>
/// Authenticates a request by a named secret it presents as a bearer token (an operator token, an API client's key):
/// the principal's name is the secret's. What each refusal says names the kind of secret, never a secret.
/// </summary>
public abstract class BearerSecretHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>What the secret is called in a refusal: "operator token", "API key".</summary>
    protected abstract string SecretName { get; }

    /// <summary>The secret the request presents: null for none, empty for a header that is not a bearer token.</summary>
    protected virtual string? ReadPresented() => HashedSecrets.ReadBearer(Request);

    /// <summary>The name of the secret <paramref name="presented"/>, or null when it is none of them.</summary>
    protected abstract string? NameOf(string presented);

    protected sealed override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadPresented();
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (presented.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.Fail($"the Authorization header must be 'Bearer <{SecretName}>'"));
        }

        if (NameOf(presented) is not { } name)
        {
            return Task.FromResult(AuthenticateResult.Fail($"the {SecretName} is not valid"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    /// <summary>A 401 problem with <c>WWW-Authenticate: Bearer</c>: why the secret failed, else <paramref name="missing"/>.</summary>
    protected async Task ChallengeWithProblemAsync(string missing)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Bearer";
        await ApiProblems.Result(StatusCodes.Status401Unauthorized, result.Failure?.Message ?? missing).ExecuteAsync(Context);
    }
}
