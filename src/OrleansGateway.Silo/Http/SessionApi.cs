using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Http;

/// <summary>What the session API needs of a host's services: its problems and its OpenAPI document.</summary>
public static class SessionApi
{
    public static IServiceCollection AddSessionApi(this IServiceCollection services) => services
        .AddApiProblems()
        .AddApiDocument("OrleansGateway session API",
            "Conversations with an agent: post a message, read a session and its turns, follow its events, suspend, resume, delete. "
            + "Every error is application/problem+json whose error member repeats the detail.");
}
