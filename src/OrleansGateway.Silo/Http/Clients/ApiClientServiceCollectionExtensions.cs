using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.Storage;

namespace OrleansGateway.Http.Clients;

/// <summary>The session API's front door: client keys, each client's own sessions, and each client's rate limit.</summary>
public static partial class ApiClientServiceCollectionExtensions
{
    private const string Policy = "ApiClient";

    public static IServiceCollection AddApiClients(this IServiceCollection services)
    {
        services.AddOptions<ApiClientOptions>().BindConfiguration(ApiClientOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiClientOptions>, ApiClientOptions.Validator>();
        services.AddSingleton<ApiClientKeys>();
        services.AddSingleton<SessionClients>();
        services.AddSingleton<SessionAccess>();
        services.AddHostedService<OpenApiWarning>();
        services.AddAuthentication(ApiClientHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiClientHandler>(ApiClientHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAuthenticatedUser());
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, context =>
            {
                var client = context.User.Identity?.Name ?? "";
                var options = context.RequestServices.GetRequiredService<IOptions<ApiClientOptions>>().Value;
                var limit = options.Clients.TryGetValue(client, out var settings) ? options.LimitOf(settings) : options.RateLimit;
                return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limit.Burst!.Value,
                    TokensPerPeriod = limit.RequestsPerSecond!.Value,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await ApiProblems.Result(StatusCodes.Status429TooManyRequests,
                    $"too many requests from client {context.HttpContext.User.Identity?.Name}: retry after {retryAfter} s")
                    .ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }

    /// <summary>Asks the group's requests for a client key, and limits each client's rate, when clients are configured.</summary>
    public static RouteGroupBuilder RequireApiClient(this RouteGroupBuilder group, IServiceProvider services)
    {
        group.ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        if (services.GetRequiredService<ApiClientKeys>().Required)
        {
            group.RequireAuthorization(Policy).RequireRateLimiting(Policy);
        }

        return group;
    }

    /// <summary>An open API is for local development: say so at every start, where an SRE reads the log.</summary>
    private sealed partial class OpenApiWarning(ApiClientKeys keys, ILogger<OpenApiWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (!keys.Required)
            {
                LogOpen();
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(1, LogLevel.Warning, "No API client is configured (Gateway:Clients:<name>:Key): the session API is open to anyone who reaches this silo. Configure clients anywhere but a development machine.")]
        private partial void LogOpen();
    }
}
