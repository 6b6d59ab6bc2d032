using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace OrleansGateway.Agents.Model;

/// <summary>The <see cref="IChatClient"/> of an OpenAI-compatible server, with the OpenAI client's own timeout and retries.</summary>
public static class OpenAIChatClients
{
    // The OpenAI client refuses an empty key; local servers (Ollama, llama.cpp) ignore whatever is sent.
    private const string NoKey = "unused";

    public static IChatClient Create(OpenAIEndpointOptions options, ILoggerFactory loggers)
    {
        var client = new OpenAIClient(new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? NoKey : options.ApiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(options.Endpoint!, UriKind.Absolute),
            NetworkTimeout = options.Timeout,
            // Retries 408, 429, 5xx and network failures with exponential backoff, honouring Retry-After.
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
            // The pipeline logs each request and retry; it redacts the Authorization header and logs no bodies.
            ClientLoggingOptions = new ClientLoggingOptions { LoggerFactory = loggers, EnableMessageContentLogging = false },
        });
        return client.GetChatClient(options.Model!).AsIChatClient();
    }
}
