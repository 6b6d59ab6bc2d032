using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Http.Clients;

/// <summary>
/// Authenticates a session API request by its client key (<c>Authorization: Bearer &lt;key&gt;</c>): the principal's
/// name is the client's. Refusals are the API's 401 problems; the key is never logged nor repeated.
/// </summary>
public sealed class ApiClientHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiClientKeys keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiClient";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = HashedSecrets.ReadBearer(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (presented.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.Fail("the Authorization header must be 'Bearer <API key>'"));
        }

        if (keys.ClientOf(presented) is not { } client)
        {
            return Task.FromResult(AuthenticateResult.Fail("the API key is not valid"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, client)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Bearer";
        await ApiProblems.Result(StatusCodes.Status401Unauthorized,
            result.Failure?.Message ?? "an API key is required: Authorization: Bearer <key>").ExecuteAsync(Context);
    }
}
