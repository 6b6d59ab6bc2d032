using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace OrleansGateway.Agents.Model;

/// <summary>
/// One streamed model call: text deltas go to the step's live output as they come, and the whole answer is put together
/// at the end. Whatever goes wrong after the client's retries becomes a <see cref="ModelCallException"/> that says what.
/// </summary>
public sealed class ModelCall(IChatClient model, IStepOutput output, OpenAIEndpointOptions endpoint)
{
    // What an error message quotes of the server's answer.
    private const int MaxBody = 500;

    public async Task<ChatResponse> RunAsync(IList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        var updates = new List<ChatResponseUpdate>();
        try
        {
            await foreach (var update in model.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                updates.Add(update);
                if (update.Text is { Length: > 0 } text)
                {
                    output.TextDelta(text);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception) when (Describe(exception) is { } reason)
        {
            throw new ModelCallException($"model {endpoint.Model} at {endpoint.Endpoint}: {reason}", exception);
        }

        return updates.ToChatResponse();
    }

    private string? Describe(Exception exception) => exception switch
    {
        // The pipeline gathers the failures of every attempt when the last one is not an answer: the last one says why.
        AggregateException { InnerExceptions: [.., var last] } => Describe(last),
        ClientResultException { Status: > 0 } failed => $"HTTP {failed.Status}{Retried(failed.Status is 408 or 429 or >= 500)}: {Body(failed)}",
        OperationCanceledException => $"no answer within {endpoint.Timeout.TotalSeconds:0.###} s{Retried(true)}",
        JsonException or FormatException => $"the answer is not valid JSON: {exception.Message}",
        HttpRequestException or IOException or ClientResultException => $"the server cannot be reached{Retried(true)}: {exception.Message}",
        _ => null,
    };

    // The client's pipeline retries exactly these: timeouts, 408, 429, 5xx and network failures.
    private string Retried(bool retriable) => (retriable, endpoint.MaxRetries) switch
    {
        (false, _) or (_, 0) => "",
        (_, 1) => " (after 1 retry)",
        (_, var retries) => $" (after {retries} retries)",
    };

    private static string Body(ClientResultException failed)
    {
        var body = failed.GetRawResponse()?.Content?.ToString() is { Length: > 0 } text ? text : failed.Message;
        body = body.ReplaceLineEndings(" ");
        return body.Length <= MaxBody ? body : $"{body[..MaxBody]}…";
    }
}

/// <summary>A model call that failed for good: the turn fails with this message.</summary>
public sealed class ModelCallException(string message, Exception inner) : Exception(message, inner);
