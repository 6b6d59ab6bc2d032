using OrleansGateway.Storage;
using OrleansGateway.Streaming;

namespace OrleansGateway.Tests.Streaming;

/// <summary>The text of a stream's frames: one line of JSON per event, readable as it is.</summary>
public sealed class StreamFramesTests
{
    [Fact]
    public void A_stored_event_is_one_data_line_with_its_id_and_unescaped_time()
    {
        var at = new DateTimeOffset(2026, 12, 1, 0, 45, 0, TimeSpan.Zero);
        var frame = StreamFrames.Stored(new TurnEvent(7, "s1", 3, TurnEventKinds.Completed, """{"turnId":"t3","reply":"a <b>\nc"}""", at));

        Assert.Equal("""
            id: 7
            event: completed
            data: {"turnId":"t3","reply":"a <b>\nc","sessionId":"s1","kind":"completed","at":"2026-12-01T00:45:00.0000000+00:00"}


            """.Replace("\r", ""), frame);
    }
}
