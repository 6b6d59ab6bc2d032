using OrleansGateway.Streaming;

namespace OrleansGateway.Tests.Streaming;

/// <summary>The <c>Gateway:Stream</c> settings a silo refuses to start with, each named with what is wrong.</summary>
public sealed class SessionStreamOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_each_bad_setting_is_named()
    {
        var validator = new SessionStreamOptions.Validator();

        Assert.True(validator.Validate(null, new SessionStreamOptions()).Succeeded);
        var result = validator.Validate(null, new SessionStreamOptions
        {
            Heartbeat = TimeSpan.Zero,
            Retention = TimeSpan.FromSeconds(-1),
            ReconnectDelay = TimeSpan.FromSeconds(10),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
            QueueCapacity = 2,
            ReadBatchSize = 0,
            WatchLease = TimeSpan.FromMilliseconds(500),
        });
        Assert.Equal(
        [
            "Gateway:Stream:Heartbeat must be positive, not 00:00:00",
            "Gateway:Stream:Retention must be positive, not -00:00:01",
            "Gateway:Stream:WatchLease must be at least 1 second, not 00:00:00.5000000",
            "Gateway:Stream:MaxReconnectDelay (00:00:01) must not be below ReconnectDelay (00:00:10)",
            "Gateway:Stream:QueueCapacity must be between 16 and 1000000, not 2",
            "Gateway:Stream:ReadBatchSize must be between 1 and 10000, not 0",
        ], result.Failures);
    }
}
