using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansGateway.Agents;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Streaming;

/// <summary>
/// The documents of a session's stream events, one method per kind. Every document names its turn (<c>turnId</c>); the
/// stream adds the session, the kind and the event id.
/// </summary>
internal static class TurnEventDocuments
{
    public static TurnEventDraft Accepted(TurnRecord turn, SessionPhase phase, string? note) => Draft(TurnEventKinds.Accepted, turn.TurnId, new JsonObject
    {
        ["messageId"] = turn.MessageId,
        ["text"] = turn.Text,
        ["phase"] = phase.ToName(),
        ["note"] = note,
        ["started"] = turn.Status == TurnStatus.Running,
    });

    /// <summary>A turn's start: <c>resumed</c> when it continues an interrupted execution, with why and where it stopped.</summary>
    public static TurnEventDraft Started(TurnRecord turn, ResumeNote? resume) => resume is null
        ? Draft(TurnEventKinds.Started, turn.TurnId, new JsonObject { ["execution"] = turn.Executions, ["step"] = turn.StepsDone })
        : Draft(TurnEventKinds.Resumed, turn.TurnId, new JsonObject
        {
            ["execution"] = turn.Executions,
            ["step"] = turn.StepsDone,
            ["reason"] = resume.Reason,
            ["interruptedAt"] = resume.InterruptedAt,
        });

    /// <summary>A checkpointed step; a journaled one tells what it recorded (the tool calls a model asked for, a tool's result).</summary>
    public static TurnEventDraft StepFinished(TurnRecord turn, int step, JournalRecord? record)
    {
        var document = new JsonObject { ["step"] = step, ["stepsTotal"] = turn.StepsTotal };
        var kind = record?.Kind switch
        {
            JournalKinds.Model => TurnEventKinds.ToolCall,
            JournalKinds.Tool => TurnEventKinds.ToolResult,
            _ => TurnEventKinds.StepFinished,
        };
        if (record is not null)
        {
            document["record"] = ParseOrText(record.Data);
        }

        return Draft(kind, turn.TurnId, document);
    }

    public static TurnEventDraft Finished(FinishedTurn turn) => Draft(
        turn.Status == TurnStatus.Failed ? TurnEventKinds.Failed : TurnEventKinds.Completed, turn.TurnId, new JsonObject
        {
            ["reply"] = turn.Reply,
            ["error"] = turn.Error,
            ["steps"] = turn.StepsDone,
            ["executions"] = turn.Executions,
            ["usage"] = turn.Usage is { } usage ? new JsonObject { ["input"] = usage.Input, ["output"] = usage.Output } : null,
        });

    public static TurnEventDraft Interrupted(TurnRecord turn) =>
        Draft(TurnEventKinds.Interrupted, turn.TurnId, new JsonObject { ["step"] = turn.StepsDone });

    private static TurnEventDraft Draft(string kind, string turnId, JsonObject document)
    {
        document["turnId"] = turnId;
        return new TurnEventDraft(kind, TurnIds.Parse(turnId), document.ToJsonString());
    }

    private static JsonNode? ParseOrText(string data)
    {
        try
        {
            return JsonNode.Parse(data);
        }
        catch (JsonException)
        {
            return JsonValue.Create(data);
        }
    }
}
