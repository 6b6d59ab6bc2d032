using Orleans.Dashboard;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Auth;

/// <summary>
/// The official Orleans dashboard under <see cref="Path"/>, behind the operator token. Its page and scripts are not
/// ours and send no Authorization header, so a browser signs in once and then carries the token in an HttpOnly cookie
/// (<see cref="OperatorCredentials.CookieName"/>), set by any of:
/// <list type="bullet">
/// <item><c>POST /orleans/signin</c> with <c>Authorization: Bearer</c> (what our page does after its own sign-in) or a
/// form field <c>token</c>;</item>
/// <item><c>GET /orleans/?token=...</c>, which sets the cookie and redirects to the same address without the token,
/// for a link handed to someone.</item>
/// </list>
/// </summary>
public static class OrleansDashboardSignIn
{
    public const string Path = "/orleans";

    public static IEndpointRouteBuilder MapOrleansDashboardBehindSignIn(this IEndpointRouteBuilder endpoints)
    {
        // Not in the OpenAPI document, which describes the operator API: the Orleans dashboard is a page of its own.
        endpoints.MapPost($"{Path}/signin", SignInAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        endpoints.MapPost($"{Path}/signout", (HttpContext context) =>
        {
            context.Response.Cookies.Delete(OperatorCredentials.CookieName, CookieOptions(context));
            return Results.NoContent();
        }).AllowAnonymous().ExcludeFromDescription();
        endpoints.MapOrleansDashboard(routePrefix: Path).RequireAuthorization(OperatorPolicies.Read).ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>Turns <c>?token=</c> on a GET of the Orleans dashboard into the cookie, and the address into one without it.</summary>
    public static IApplicationBuilder UseOrleansDashboardTokenLinks(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.StartsWithSegments(Path)
            && context.Request.Query.TryGetValue("token", out var token))
        {
            var tokens = context.RequestServices.GetRequiredService<OperatorTokenStore>();
            if (tokens.NameOf(token.ToString()) is null)
            {
                await ApiProblems.Result(StatusCodes.Status401Unauthorized, "the operator token is not valid").ExecuteAsync(context);
                return;
            }

            context.Response.Cookies.Append(OperatorCredentials.CookieName, token.ToString(), CookieOptions(context));
            var rest = QueryString.Create(context.Request.Query.Where(pair => pair.Key != "token"));
            context.Response.Redirect($"{context.Request.PathBase}{context.Request.Path}{rest}");
            return;
        }

        await next(context);
    });

    private static async Task<IResult> SignInAsync(HttpContext context, OperatorTokenStore tokens)
    {
        var fromForm = context.Request.HasFormContentType;
        var presented = fromForm ? (await context.Request.ReadFormAsync()).TryGetValue("token", out var field) ? field.ToString() : null
            : OperatorCredentials.Read(context.Request);
        if (string.IsNullOrEmpty(presented) || tokens.NameOf(presented) is null)
        {
            return ApiProblems.Result(StatusCodes.Status401Unauthorized, "the operator token is not valid");
        }

        context.Response.Cookies.Append(OperatorCredentials.CookieName, presented, CookieOptions(context));
        return fromForm ? Results.Redirect($"{Path}/", permanent: false, preserveMethod: false) : Results.NoContent();
    }

    // A session cookie (no expiry): it ends with the browser, as the page's sessionStorage does.
    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        Path = Path,
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        IsEssential = true,
    };
}
