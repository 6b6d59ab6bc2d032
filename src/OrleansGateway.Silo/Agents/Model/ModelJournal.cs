using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Agents.Model;

/// <summary>A model call that asked for tools: the journal's <c>model</c> record, with the tokens the call used.</summary>
public sealed record ModelStep(string? Text, IReadOnlyList<ToolCallRequest> Calls, TokenUsage? Usage = null)
{
    public const string Kind = "model";
}

/// <summary>One tool call the model asked for; <see cref="Arguments"/> is the JSON object the model wrote.</summary>
public sealed record ToolCallRequest(string CallId, string Name, string Arguments);

/// <summary>A tool call to run next, and the journal step of the model call that asked for it.</summary>
public sealed record PendingCall(int ModelStep, ToolCallRequest Call);

/// <summary>A tool call that ran: the journal's <c>tool</c> record.</summary>
public sealed record ToolStep(string CallId, string Name, string Result, bool IsError)
{
    public const string Kind = "tool";
}

/// <summary>
/// The journal of a turn as the model agent reads it. It is all the agent knows of the turn's earlier steps: the agent
/// keeps nothing between steps, so a turn resumed on another silo goes on exactly where the journal ends.
/// </summary>
public sealed class ModelJournal
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private ModelJournal(IReadOnlyList<object> steps) => Steps = steps;

    /// <summary>Each entry's record: a <see cref="ModelStep"/> or a <see cref="ToolStep"/>, oldest first.</summary>
    public IReadOnlyList<object> Steps { get; }

    public static ModelJournal Read(IReadOnlyList<JournalEntry> entries) => new(entries.Select(Parse).ToList());

    public static JournalRecord Record(ModelStep step) => new(ModelStep.Kind, JsonSerializer.Serialize(step, Json));

    public static JournalRecord Record(ToolStep step) => new(ToolStep.Kind, JsonSerializer.Serialize(step, Json));

    /// <summary>
    /// The first tool call of the newest model step that has no result in the journal yet: the next step runs it. Null when
    /// every call asked for has its result, and the model is asked again.
    /// </summary>
    public PendingCall? PendingCall()
    {
        var last = Steps.Select((step, index) => (step, index)).LastOrDefault(s => s.step is ModelStep);
        if (last.step is not ModelStep model)
        {
            return null;
        }

        var done = Steps.Skip(last.index + 1).OfType<ToolStep>().Select(tool => tool.CallId).ToHashSet(StringComparer.Ordinal);
        return model.Calls.FirstOrDefault(call => !done.Contains(call.CallId)) is { } call ? new PendingCall(last.index, call) : null;
    }

    private static object Parse(JournalEntry entry)
    {
        try
        {
            return entry.Kind switch
            {
                ModelStep.Kind => JsonSerializer.Deserialize<ModelStep>(entry.Data, Json),
                ToolStep.Kind => (object?)JsonSerializer.Deserialize<ToolStep>(entry.Data, Json),
                _ => null,
            } ?? throw new InvalidOperationException($"journal entry {entry.Step} of kind '{entry.Kind}' is not a record of the model agent");
        }
        catch (JsonException exception)
        {
            throw new InvalidOperationException($"journal entry {entry.Step} ({entry.Kind}) cannot be read: {exception.Message}", exception);
        }
    }
}
