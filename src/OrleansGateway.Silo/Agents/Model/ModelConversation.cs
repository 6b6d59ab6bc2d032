using System.Text.Json;
using Microsoft.Extensions.AI;
using OrleansGateway.Storage;

namespace OrleansGateway.Agents.Model;

/// <summary>What the model is sent: the system prompt, earlier turns, the user's text, then the turn's journal replayed.</summary>
public static class ModelConversation
{
    /// <remarks>
    /// A resumed turn is sent exactly what an uninterrupted one would be: no note that it was interrupted. The journal is
    /// the complete context (every model answer and every tool result that counts is in it), and a model told "you were
    /// interrupted" tends to start over, calling tools again that already ran.
    /// </remarks>
    public static List<ChatMessage> Build(string? systemPrompt, IReadOnlyList<Exchange> history, string text, ModelJournal journal)
    {
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrWhiteSpace(systemPrompt))
        {
            messages.Add(new ChatMessage(ChatRole.System, systemPrompt));
        }

        foreach (var exchange in history)
        {
            messages.Add(new ChatMessage(ChatRole.User, exchange.Text));
            messages.Add(new ChatMessage(ChatRole.Assistant, exchange.Reply));
        }

        messages.Add(new ChatMessage(ChatRole.User, text));
        foreach (var step in journal.Steps)
        {
            messages.Add(step switch
            {
                ModelStep model => Assistant(model),
                ToolStep tool => new ChatMessage(ChatRole.Tool, [new FunctionResultContent(tool.CallId, tool.Result)]),
                _ => throw new InvalidOperationException($"unexpected journal record {step.GetType().Name}"),
            });
        }

        return messages;
    }

    private static ChatMessage Assistant(ModelStep model)
    {
        var contents = new List<AIContent>();
        if (!string.IsNullOrEmpty(model.Text))
        {
            contents.Add(new TextContent(model.Text));
        }

        contents.AddRange(model.Calls.Select(call => new FunctionCallContent(call.CallId, call.Name, Arguments(call.Arguments))));
        return new ChatMessage(ChatRole.Assistant, contents);
    }

    private static Dictionary<string, object?> Arguments(string json) =>
        string.IsNullOrWhiteSpace(json) ? [] : JsonSerializer.Deserialize<Dictionary<string, object?>>(json) ?? [];
}
