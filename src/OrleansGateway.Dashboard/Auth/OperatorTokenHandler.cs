using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Auth;

/// <summary>
/// Authenticates a request by its operator token (<see cref="OperatorCredentials"/>): the principal's name is the
/// token's name. Refusals are the API's errors: 401 problems, except for a browser opening the Orleans
/// dashboard without its cookie, which is sent to the sign-in page.
/// </summary>
public sealed class OperatorTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    OperatorTokenStore tokens) : BearerSecretHandler(options, loggerFactory, encoder)
{
    public const string SchemeName = "OperatorToken";

    protected override string SecretName => "operator token";

    protected override string? ReadPresented() => OperatorCredentials.Read(Request);

    protected override string? NameOf(string presented) => tokens.NameOf(presented);

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (IsBrowserOpeningOrleansDashboard(Request))
        {
            // A browser without the cookie (or with a stale one): to the sign-in page, which sets it.
            Response.Redirect($"{Request.PathBase}/");
            return;
        }

        await ChallengeWithProblemAsync(tokens.AllowAnonymousReadOnly && !HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method)
            ? "this dashboard lets anyone read, but acting needs an operator token: Authorization: Bearer <token>"
            : "an operator token is required: Authorization: Bearer <token>");
    }

    /// <summary>
    /// A GET of the Orleans dashboard by a browser, which accepts <c>text/html</c> (its page; its own scripts' requests
    /// and API clients do not ask for HTML, and keep their 401 problem).
    /// </summary>
    private static bool IsBrowserOpeningOrleansDashboard(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && request.Path.StartsWithSegments(OrleansDashboardSignIn.Path)
        && request.GetTypedHeaders().Accept.Any(accept => accept.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        await ApiProblems.Result(StatusCodes.Status403Forbidden, "this operator token may not do that").ExecuteAsync(Context);
    }
}
