using OrleansGateway.Cli.Chat;
using OrleansGateway.LocalCluster;

namespace OrleansGateway.Tests.Streaming;

/// <summary>How <c>ogw chat</c> prints what the stream brings: streamed text once, notes and tool lines on lines of their own.</summary>
public sealed class ChatPrinterTests
{
    [Fact]
    public void Streamed_text_is_printed_as_it_comes_and_not_again_with_the_reply_and_notes_end_its_line_first()
    {
        var output = new StringWriter { NewLine = "\n" };
        var printer = new ChatPrinter(output);
        var ended = new List<string?>
        {
            printer.Print(Live("delta", """{"turnId":"t1","text":"Hel"}""")),
            printer.Print(Live("delta", """{"turnId":"t1","text":"lo"}""")),
            printer.Print(Stored(1, "tool_call", """{"turnId":"t1","step":0,"record":{"calls":[{"callId":"c1","name":"clock","arguments":"{\"tz\":\"UTC\"}"}]}}""")),
            printer.Print(Stored(6, "tool_result", """{"turnId":"t1","step":1,"record":{"callId":"c1","name":"clock","result":"12:00","isError":false}}""")),
            printer.Print(Stored(7, "tool_result", """{"turnId":"t1","step":2,"record":{"callId":"c2","name":"mail","result":"timed out","isError":true}}""")),
            printer.Print(Stored(8, "tool_call", """{"turnId":"t1","step":3,"record":{"tool":"other"}}""")),
            printer.Print(Stored(2, "interrupted", """{"turnId":"t1","step":1}""")),
            printer.Print(Stored(3, "resumed", """{"turnId":"t1","step":1,"reason":"silo_stopped"}""")),
            printer.Print(Live("delta", """{"turnId":"t1","text":" world"}""")),
            printer.Print(Stored(4, "completed", """{"turnId":"t1","reply":"Hello world"}""")),
            printer.Print(Stored(5, "failed", """{"turnId":"t2","error":"boom"}""")),
            printer.Print(new StreamMessage(null, null, "", "heartbeat")),
        };

        Assert.Equal([null, null, null, null, null, null, null, null, null, "t1", "t2", null], ended);
        Assert.Equal("""
            Hello
              → clock({"tz":"UTC"})
              ← clock: 12:00
              ← mail failed: timed out
              → tool call: {"tool":"other"}
            (t1 interrupted after 1 steps)
            (t1 resumed after 1 steps: silo_stopped)
             world
            error: t2 failed: boom

            """.Replace("\r", ""), output.ToString());
    }

    private static StreamMessage Live(string kind, string data) => new(null, kind, data);

    private static StreamMessage Stored(long id, string kind, string data) => new(id, kind, data);
}
