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
    ApiClientKeys keys) : BearerSecretHandler(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiClient";

    protected override string SecretName => "API key";

    protected override string? NameOf(string presented) => keys.ClientOf(presented);

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        ChallengeWithProblemAsync("an API key is required: Authorization: Bearer <key>");
}
