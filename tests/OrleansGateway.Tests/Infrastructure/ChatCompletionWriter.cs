using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>Writes a <see cref="ScriptedAnswer"/> as OpenAI's chat completions API does: one JSON body, or SSE chunks.</summary>
public static class ChatCompletionWriter
{
    public const int PromptTokens = 10;
    public const int CompletionTokens = 5;

    public static async Task WriteAsync(HttpResponse response, ScriptedAnswer answer, string model, bool stream, CancellationToken cancellationToken)
    {
        if (answer.Status != 200)
        {
            response.StatusCode = answer.Status;
            if (answer.Status == 429)
            {
                response.Headers.RetryAfter = "0";
            }

            await response.WriteAsJsonAsync(new { error = new { message = $"scripted status {answer.Status}", type = "scripted" } }, cancellationToken);
            return;
        }

        if (stream)
        {
            await StreamAsync(response, answer, model, cancellationToken);
            return;
        }

        response.ContentType = "application/json";
        if (answer.Malformed)
        {
            await response.WriteAsync("""{"id":"chatcmpl-test","choices":[{"message":""", cancellationToken);
            return;
        }

        var message = new JsonObject { ["role"] = "assistant", ["content"] = answer.ToolCalls.Count > 0 && answer.Text.Length == 0 ? null : answer.Text };
        if (answer.ToolCalls.Count > 0)
        {
            message["tool_calls"] = new JsonArray(answer.ToolCalls.Select(call => (JsonNode)new JsonObject
            {
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments },
            }).ToArray());
        }

        var body = Envelope("chat.completion", model);
        body["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = FinishReason(answer) });
        body["usage"] = Usage();
        await response.WriteAsync(body.ToJsonString(), cancellationToken);
    }

    private static async Task StreamAsync(HttpResponse response, ScriptedAnswer answer, string model, CancellationToken cancellationToken)
    {
        response.ContentType = "text/event-stream";
        if (answer.Malformed)
        {
            await response.WriteAsync("data: {\"id\":\"chatcmpl-test\",\"choices\":[{\"delta\":\n\ndata: [DONE]\n\n", cancellationToken);
            return;
        }

        await ChunkAsync(response, model, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, cancellationToken);
        foreach (var text in answer.Chunks)
        {
            await Task.Delay(answer.ChunkDelay, cancellationToken);
            await ChunkAsync(response, model, new JsonObject { ["content"] = text }, null, cancellationToken);
        }

        foreach (var (call, index) in answer.ToolCalls.Select((call, index) => (call, index)))
        {
            // The arguments arrive in pieces, as real servers send them.
            var half = call.Arguments.Length / 2;
            await ChunkAsync(response, model, ToolDelta(index, call.Arguments[..half], call), null, cancellationToken);
            await ChunkAsync(response, model, ToolDelta(index, call.Arguments[half..], null), null, cancellationToken);
        }

        await ChunkAsync(response, model, new JsonObject(), FinishReason(answer), cancellationToken);
        var usage = Envelope("chat.completion.chunk", model);
        usage["choices"] = new JsonArray();
        usage["usage"] = Usage();
        await response.WriteAsync($"data: {usage.ToJsonString()}\n\ndata: [DONE]\n\n", cancellationToken);
    }

    private static JsonObject ToolDelta(int index, string arguments, ScriptedToolCall? first)
    {
        var function = new JsonObject { ["arguments"] = arguments };
        var delta = new JsonObject { ["index"] = index, ["function"] = function };
        if (first is not null)
        {
            (delta["id"], delta["type"], function["name"]) = (first.Id, "function", first.Name);
        }

        return new JsonObject { ["tool_calls"] = new JsonArray(delta) };
    }

    private static async Task ChunkAsync(HttpResponse response, string model, JsonObject delta, string? finishReason, CancellationToken cancellationToken)
    {
        var chunk = Envelope("chat.completion.chunk", model);
        chunk["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason });
        await response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static JsonObject Envelope(string kind, string model) =>
        new() { ["id"] = "chatcmpl-test", ["object"] = kind, ["created"] = 1_700_000_000, ["model"] = model };

    private static string FinishReason(ScriptedAnswer answer) => answer.ToolCalls.Count > 0 ? "tool_calls" : "stop";

    private static JsonObject Usage() =>
        new() { ["prompt_tokens"] = PromptTokens, ["completion_tokens"] = CompletionTokens, ["total_tokens"] = PromptTokens + CompletionTokens };
}
