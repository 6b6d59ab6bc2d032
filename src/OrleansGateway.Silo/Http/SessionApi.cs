using OrleansGateway.Http.Clients;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Http;

/// <summary>What the session API needs of a host's services: its problems, its clients, its limits and its OpenAPI document.</summary>
public static class SessionApi
{
    public static IServiceCollection AddSessionApi(this IServiceCollection services) => services
        .AddApiProblems()
        .AddApiClients()
        .AddRequestLimits()
        .AddApiDocument("OrleansGateway session API",
            "Conversations with an agent: post a message, read a session and its turns, follow its events, suspend, resume, delete. "
            + "Every error is application/problem+json whose error member repeats the detail. A silo with API clients (Gateway:Clients) "
            + "asks every session route for Authorization: Bearer <key>, shows a client only its own sessions and limits its rate.");

    /// <summary>The session API's middleware and routes, with the health checks beside them.</summary>
    public static WebApplication UseSessionApi(this WebApplication app)
    {
        app.UseApiExceptionHandler();
        app.UseRateLimiter();
        app.MapHealthEndpoints();
        app.MapSessionEndpoints();
        return app;
    }
}
