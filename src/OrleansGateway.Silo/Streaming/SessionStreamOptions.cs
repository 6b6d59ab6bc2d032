using Microsoft.Extensions.Options;

namespace OrleansGateway.Streaming;

/// <summary>The <c>Gateway:Stream</c> section: the session streams (<c>GET /api/sessions/{id}/stream</c>) and how long their events are kept.</summary>
public sealed class SessionStreamOptions
{
    public const string Section = "Gateway:Stream";

    /// <summary>How often an open stream gets a comment line, so that proxies and clients see a quiet stream is alive.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Frames a stream may hold for a client that reads slower than its session writes; one more disconnects it.</summary>
    public int QueueCapacity { get; set; } = 1000;

    /// <summary>Stored events read per statement when a stream catches up.</summary>
    public int ReadBatchSize { get; set; } = 200;

    /// <summary>The first wait before the listener reconnects to PostgreSQL; doubled after each failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the listener waits for a notification before it checks that its connection still answers.</summary>
    public TimeSpan ListenerProbeInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a silo's watch of a session it streams lasts unless renewed (every quarter of it, while a stream is open):
    /// events of sessions nobody watches notify nobody. A silo that crashed costs notifications for at most this long.
    /// </summary>
    public TimeSpan WatchLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Stored stream events older than this are deleted (by the event pruner): a client gone longer starts afresh.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);

    public sealed class Validator : IValidateOptions<SessionStreamOptions>
    {
        public ValidateOptionsResult Validate(string? name, SessionStreamOptions options)
        {
            var problems = new List<string>();
            Positive(options.Heartbeat, nameof(Heartbeat));
            Positive(options.ReconnectDelay, nameof(ReconnectDelay));
            Positive(options.ListenerProbeInterval, nameof(ListenerProbeInterval));
            Positive(options.Retention, nameof(Retention));
            if (options.WatchLease < TimeSpan.FromSeconds(1))
            {
                problems.Add($"{Section}:{nameof(WatchLease)} must be at least 1 second, not {options.WatchLease}");
            }

            if (options.MaxReconnectDelay < options.ReconnectDelay)
            {
                problems.Add($"{Section}:{nameof(MaxReconnectDelay)} ({options.MaxReconnectDelay}) must not be below {nameof(ReconnectDelay)} ({options.ReconnectDelay})");
            }

            if (options.QueueCapacity is < 16 or > 1_000_000)
            {
                problems.Add($"{Section}:{nameof(QueueCapacity)} must be between 16 and 1000000, not {options.QueueCapacity}");
            }

            if (options.ReadBatchSize is < 1 or > 10_000)
            {
                problems.Add($"{Section}:{nameof(ReadBatchSize)} must be between 1 and 10000, not {options.ReadBatchSize}");
            }

            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);

            void Positive(TimeSpan value, string key)
            {
                if (value <= TimeSpan.Zero)
                {
                    problems.Add($"{Section}:{key} must be positive, not {value}");
                }
            }
        }
    }
}
