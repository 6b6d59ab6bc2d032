using System.Globalization;
using System.Text.Json.Nodes;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>One tool call a scripted answer asks for.</summary>
public sealed record ScriptedToolCall(string Id, string Name, string Arguments);

/// <summary>What <see cref="ScriptedModelServer"/> answers to one request.</summary>
public sealed record ScriptedAnswer
{
    public int Status { get; init; } = 200;

    public TimeSpan Delay { get; init; }

    public bool Malformed { get; init; }

    /// <summary>The text, in the chunks it is streamed in.</summary>
    public IReadOnlyList<string> Chunks { get; init; } = [];

    public TimeSpan ChunkDelay { get; init; }

    public IReadOnlyList<ScriptedToolCall> ToolCalls { get; init; } = [];

    public string Text => string.Concat(Chunks);

    public static ScriptedAnswer Reply(string text) => new() { Chunks = [text] };
}

/// <summary>
/// The script of <see cref="ScriptedModelServer"/>: the answer follows from the request alone (and from how many requests
/// with the same user text came before, for the flaky ones), so that silo processes get the same answers as a test does.
/// The last user message says what to do:
/// <list type="bullet">
/// <item><c>tool:&lt;name&gt;:&lt;json&gt;</c>, several joined by <c>|</c>: asks for those tool calls (ids <c>call_1</c>, ...); once the
/// messages after the user's hold as many tool results, answers <c>done: &lt;result&gt; | &lt;result&gt;</c>.</item>
/// <item><c>loop:&lt;name&gt;:&lt;json&gt;</c>: asks for that tool again after every result, for ever.</item>
/// <item><c>repeat:&lt;n&gt;:&lt;name&gt;:&lt;json&gt;</c>: asks for that tool n times, one answer each, always with the id <c>call_0</c> (as
/// some local servers do), then answers <c>done: &lt;result&gt; | ...</c>; <c>twins:&lt;name&gt;:&lt;json&gt;</c>: asks for that tool twice in one
/// answer, both calls with the id <c>call_0</c>, then answers the same way.</item>
/// <item><c>stream:&lt;n&gt;[:&lt;ms&gt;]</c>: answers <c>w1 w2 ... wn </c> in n chunks, ms (default the server's chunk delay) apart.</item>
/// <item><c>status:&lt;code&gt;</c>: answers that HTTP status, always; <c>flaky:&lt;code&gt;:&lt;n&gt;</c>: the first n times only, then <c>recovered</c>
/// (a 429 says <c>Retry-After: 0</c>).</item>
/// <item><c>malformed</c>: a body that is not JSON; <c>slow:&lt;ms&gt;</c>: waits, then answers <c>slow done</c>.</item>
/// <item><c>history</c>: answers <c>history: </c> and the earlier messages as <c>role:text</c> joined by <c> | </c>.</item>
/// <item>anything else: <c>echo: &lt;text&gt;</c>.</item>
/// </list>
/// </summary>
public static class ModelScript
{
    public static string UserText(JsonNode request) => Messages(request).LastOrDefault(m => Role(m) == "user") is { } user ? Content(user) : "";

    /// <param name="attempt">How many requests with the same user text came before this one.</param>
    public static ScriptedAnswer Answer(JsonNode request, int attempt, TimeSpan chunkDelay)
    {
        var messages = Messages(request);
        var userIndex = messages.FindLastIndex(m => Role(m) == "user");
        var text = userIndex < 0 ? "" : Content(messages[userIndex]).Trim();
        var results = messages.Skip(userIndex + 1).Where(m => Role(m) == "tool").Select(Content).ToList();
        var (verb, rest) = text.IndexOf(':') is var colon and > 0 ? (text[..colon], text[(colon + 1)..]) : (text, "");
        return verb switch
        {
            "tool" => Tools(text, results),
            "loop" => new ScriptedAnswer { ToolCalls = [Call($"call_{results.Count + 1}", rest)] },
            "repeat" when rest.IndexOf(':') is var split and > 0 => results.Count < Number(rest[..split])
                ? new ScriptedAnswer { ToolCalls = [Call("call_0", rest[(split + 1)..])] }
                : ScriptedAnswer.Reply("done: " + string.Join(" | ", results)),
            "twins" => results.Count < 2
                ? new ScriptedAnswer { ToolCalls = [Call("call_0", rest), Call("call_0", rest)] }
                : ScriptedAnswer.Reply("done: " + string.Join(" | ", results)),
            "stream" => Stream(rest, chunkDelay),
            "status" => new ScriptedAnswer { Status = Number(rest) },
            "flaky" when rest.Split(':') is [var code, var times] => attempt < Number(times)
                ? new ScriptedAnswer { Status = Number(code) }
                : ScriptedAnswer.Reply("recovered"),
            "malformed" => new ScriptedAnswer { Malformed = true },
            "slow" => ScriptedAnswer.Reply("slow done") with { Delay = TimeSpan.FromMilliseconds(Number(rest)) },
            "history" => ScriptedAnswer.Reply("history: " + string.Join(" | ", messages.Take(userIndex).Select(m => $"{Role(m)}:{Content(m)}"))),
            _ => ScriptedAnswer.Reply($"echo: {text}"),
        };
    }

    private static ScriptedAnswer Tools(string text, List<string> results)
    {
        var calls = text.Split('|').Select((part, i) => Call($"call_{i + 1}", part.Trim()["tool:".Length..])).ToList();
        return results.Count >= calls.Count
            ? ScriptedAnswer.Reply("done: " + string.Join(" | ", results))
            : new ScriptedAnswer { ToolCalls = calls };
    }

    private static ScriptedToolCall Call(string id, string nameAndArguments) =>
        nameAndArguments.IndexOf(':') is var colon and > 0
            ? new ScriptedToolCall(id, nameAndArguments[..colon], nameAndArguments[(colon + 1)..])
            : new ScriptedToolCall(id, nameAndArguments, "{}");

    private static ScriptedAnswer Stream(string rest, TimeSpan chunkDelay)
    {
        var parts = rest.Split(':');
        var count = Number(parts[0]);
        var delay = parts.Length > 1 ? TimeSpan.FromMilliseconds(Number(parts[1])) : chunkDelay;
        return new ScriptedAnswer { Chunks = Enumerable.Range(1, count).Select(i => $"w{i} ").ToList(), ChunkDelay = delay };
    }

    private static int Number(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

    private static List<JsonNode> Messages(JsonNode request) => request["messages"]?.AsArray().OfType<JsonNode>().ToList() ?? [];

    private static string Role(JsonNode message) => message["role"]?.GetValue<string>() ?? "";

    // Content is a string, or an array of parts of which the text ones count.
    private static string Content(JsonNode message) => message["content"] switch
    {
        JsonValue value => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(part => part?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };
}
