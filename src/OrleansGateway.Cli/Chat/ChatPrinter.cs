using System.Text.Json;
using OrleansGateway.LocalCluster;
using OrleansGateway.Storage;

namespace OrleansGateway.Cli.Chat;

/// <summary>
/// Prints a session's stream as a conversation: a reply's text as it streams (or whole, when it did not), tool calls and
/// results as short lines, interruptions and resumes as notes in parentheses, a failure as an error line.
/// </summary>
public sealed class ChatPrinter(TextWriter output)
{
    private const int MaxRecordLength = 160;

    // The turn whose streamed text is on the current line, which every other line must end first.
    private string? _streaming;
    private readonly HashSet<string> _streamed = new(StringComparer.Ordinal);

    /// <summary>Prints one event; returns the turn it ended (completed or failed), if it did.</summary>
    public string? Print(StreamMessage message)
    {
        if (message.Event is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(message.Data);
        var data = document.RootElement;
        var turnId = Text(data, "turnId") ?? "?";
        switch (message.Event)
        {
            case TurnEventKinds.Delta:
                if (_streaming != turnId)
                {
                    EndLine();
                    _streaming = turnId;
                }

                _streamed.Add(turnId);
                output.Write(Text(data, "text"));
                return null;
            case TurnEventKinds.Accepted when Text(data, "note") is { } note:
                Line($"({turnId} accepted: {note})");
                return null;
            case TurnEventKinds.StepFinished:
                // The event names the step by its index (0 for the first); a person counts from 1.
                Line($"  · {turnId} step {StepNumber(data)}/{Number(data, "stepsTotal")}");
                return null;
            case TurnEventKinds.ToolCall:
                foreach (var call in ToolCalls(data))
                {
                    Line($"  → {call}");
                }

                return null;
            case TurnEventKinds.ToolResult:
                Line($"  ← {ToolResult(data)}");
                return null;
            case TurnEventKinds.Interrupted:
                Line($"({turnId} interrupted after {Number(data, "step")} steps)");
                return null;
            case TurnEventKinds.Resumed:
                Line($"({turnId} resumed after {Number(data, "step")} steps: {Text(data, "reason") ?? "resumed"})");
                return null;
            case TurnEventKinds.Completed:
                EndLine();
                if (!_streamed.Remove(turnId))
                {
                    output.WriteLine(Text(data, "reply"));
                }

                return turnId;
            case TurnEventKinds.Failed:
                _streamed.Remove(turnId);
                Line($"error: {turnId} failed: {Text(data, "error") ?? "no reason given"}");
                return turnId;
            default:
                return null;
        }
    }

    private void Line(string text)
    {
        EndLine();
        output.WriteLine(text);
    }

    private void EndLine()
    {
        if (_streaming is not null)
        {
            output.WriteLine();
            _streaming = null;
        }
    }

    private static string? Text(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Number(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetRawText() : "?";

    private static string StepNumber(JsonElement data) =>
        data.TryGetProperty("step", out var value) && value.TryGetInt32(out var index) ? $"{index + 1}" : "?";

    /// <summary>Each call a model record asked for as <c>name(arguments)</c>; the record itself when it is not the model agent's.</summary>
    private static IEnumerable<string> ToolCalls(JsonElement data)
    {
        if (data.TryGetProperty("record", out var record) && record.ValueKind == JsonValueKind.Object
            && record.TryGetProperty("calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            return calls.EnumerateArray().Select(call => Short($"{Text(call, "name")}({Text(call, "arguments")})"));
        }

        return [Short($"tool call: {Raw(data)}")];
    }

    /// <summary>A tool record as <c>name: result</c> (<c>name failed: error</c>); the record itself when it is not the model agent's.</summary>
    private static string ToolResult(JsonElement data)
    {
        if (data.TryGetProperty("record", out var record) && record.ValueKind == JsonValueKind.Object && Text(record, "name") is { } name)
        {
            var failed = record.TryGetProperty("isError", out var isError) && isError.ValueKind == JsonValueKind.True;
            return Short($"{name}{(failed ? " failed" : "")}: {Text(record, "result")}");
        }

        return Short($"tool result: {Raw(data)}");
    }

    private static string Raw(JsonElement data) => data.TryGetProperty("record", out var record) ? record.GetRawText() : "";

    private static string Short(string text) => text.Length > MaxRecordLength ? text[..MaxRecordLength] + "…" : text;
}
