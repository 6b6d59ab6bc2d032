using System.Text.Json;
using Microsoft.Extensions.AI;

namespace OrleansGateway.Agents.Tools;

/// <summary>A tool the model may call: its declaration, its argument schema, and how to run it.</summary>
public interface IAgentTool
{
    string Name { get; }

    AIFunctionDeclaration Declaration { get; }

    ArgumentSchema Schema { get; }

    /// <summary>
    /// Runs the tool once. <paramref name="idempotencyKey"/> is the same for every attempt of one call of the model, so that a
    /// tool that honours it does the work once however often a crash makes the turn ask. Failures the model should hear about
    /// come back as an error outcome; only cancellation throws.
    /// </summary>
    Task<ToolOutcome> RunAsync(JsonElement arguments, string idempotencyKey, CancellationToken cancellationToken);
}

/// <summary>What a tool call gave: the text the model reads as the result, and whether it is an error.</summary>
public sealed record ToolOutcome(string Text, bool IsError)
{
    public static ToolOutcome Error(string text) => new(text, true);
}
