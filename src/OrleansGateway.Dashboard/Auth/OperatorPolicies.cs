using Microsoft.AspNetCore.Authorization;

namespace OrleansGateway.Dashboard.Auth;

/// <summary>Who may do what: reading (every GET) and acting (every POST).</summary>
public static class OperatorPolicies
{
    /// <summary>An operator token, or nothing at all when <c>Dashboard:AllowAnonymousReadOnly</c> is set.</summary>
    public const string Read = "operator-read";

    /// <summary>An operator token, always: every action is audited with the token's name.</summary>
    public const string Act = "operator-act";

    public static IServiceCollection AddOperatorAuthentication(this IServiceCollection services, OperatorTokenStore tokens)
    {
        services.AddSingleton(tokens);
        services.AddAuthentication(OperatorTokenHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, OperatorTokenHandler>(OperatorTokenHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ReadAccessHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Read, policy => policy.AddRequirements(new ReadAccessRequirement()))
            .AddPolicy(Act, policy => policy.RequireAuthenticatedUser());
        return services;
    }

    public sealed class ReadAccessRequirement : IAuthorizationRequirement;

    /// <summary>
    /// Reading is allowed with a valid token, or anonymously when the dashboard allows it and the request presents no
    /// token at all: a wrong token is refused even then, so that whoever sent it learns that it is wrong.
    /// </summary>
    private sealed class ReadAccessHandler(OperatorTokenStore tokens) : AuthorizationHandler<ReadAccessRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ReadAccessRequirement requirement)
        {
            var authenticated = context.User.Identity?.IsAuthenticated == true;
            // Endpoint routing passes the request as the resource being authorized.
            var anonymous = tokens.AllowAnonymousReadOnly && context.Resource is HttpContext http && OperatorCredentials.Read(http.Request) is null;
            if (authenticated || anonymous)
            {
                context.Succeed(requirement);
            }

            return Task.CompletedTask;
        }
    }
}
