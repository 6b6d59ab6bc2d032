using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;

namespace OrleansGateway.Streaming;

/// <summary>
/// The Server-Sent Events text of a session's stream. A stored event carries its id (the client's Last-Event-ID); a live
/// one carries none, so that a browser that reconnects resumes after the last durable event. Every document is one line
/// of JSON: SSE ends a field at a line break.
/// </summary>
internal static class StreamFrames
{
    public const string Heartbeat = ": heartbeat\n\n";

    // Sent at once so that a client sees the stream open (its headers flushed) before anything happens in the session.
    public const string Opened = ": open\n\n";

    /// <summary>
    /// The starting point of a stream opened without one: an id and no data, which an EventSource takes as its
    /// Last-Event-ID without dispatching an event, so that a reconnect before the first event misses nothing.
    /// </summary>
    public static string StartingPoint(long afterId) => string.Create(CultureInfo.InvariantCulture, $"id: {afterId}\n\n");

    private static readonly HashSet<string> LiveKinds = [TurnEventKinds.Delta, TurnEventKinds.StepStarted];

    // Not HTML: a client reads "+00:00" and "<", not their \u escapes. Line breaks and quotes are still escaped.
    private static readonly JsonSerializerOptions FrameJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Stored(TurnEvent stored)
    {
        var document = ParseObject(stored.Data) ?? [];
        document["sessionId"] = stored.SessionId;
        document["kind"] = stored.Kind;
        document["at"] = stored.At.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        if (!document.ContainsKey("turnId") && stored.TurnNumber is { } number)
        {
            document["turnId"] = TurnIds.Format(number);
        }

        return string.Create(CultureInfo.InvariantCulture, $"id: {stored.Id}\nevent: {stored.Kind}\ndata: {document.ToJsonString(FrameJson)}\n\n");
    }

    /// <summary>The session and frame of a live notification's payload; null for a payload that is not a live event.</summary>
    public static (string SessionId, string Frame)? Live(string payload)
    {
        if (ParseObject(payload) is not { } document
            || document["sessionId"]?.GetValueKind() != JsonValueKind.String
            || document["kind"]?.GetValueKind() != JsonValueKind.String)
        {
            return null;
        }

        var kind = document["kind"]!.GetValue<string>();
        return LiveKinds.Contains(kind) ? (document["sessionId"]!.GetValue<string>(), $"event: {kind}\ndata: {document.ToJsonString(FrameJson)}\n\n") : null;
    }

    private static JsonObject? ParseObject(string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
