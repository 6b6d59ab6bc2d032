using Microsoft.Extensions.Options;
using Npgsql;
using OrleansGateway.Hosting;
using OrleansGateway.Storage;

namespace OrleansGateway.Streaming;

/// <summary>
/// The silo's one listener of the stream channels: a connection of its own that <c>LISTEN</c>s on
/// <see cref="TurnEvents.EventsChannel"/> and <see cref="TurnEvents.LiveChannel"/> and hands each notification to the
/// streams of its session. When the connection is lost it reconnects with backoff and then wakes every stream, which
/// re-reads from its last event: what was committed meanwhile is stored, only live output of the gap is lost.
/// </summary>
internal sealed partial class SessionStreamListener(NpgsqlDataSource dataSource, SessionStreamRegistry registry,
    IOptions<SessionStreamOptions> options, ILogger<SessionStreamListener> logger) : SiloBackgroundLoop
{
    // Clients reconnect (to another silo) with their Last-Event-ID rather than wait on a silo that no longer hears.
    protected override void Stopped() => registry.EndAll("the silo is stopping");

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var delay = settings.ReconnectDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(settings, () => delay = settings.ReconnectDelay, cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                LogConnectionLost(exception, delay);
                try
                {
                    await Task.Delay(delay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.MaxReconnectDelay.Ticks));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ListenAsync(SessionStreamOptions settings, Action connected, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        connection.Notification += (_, notification) => Deliver(notification.Channel, notification.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {TurnEvents.EventsChannel}; LISTEN {TurnEvents.LiveChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }

        connected();
        LogListening();
        registry.WakeAll();
        try
        {
            while (true)
            {
                // A quiet connection may be a dead one (a server that vanished without closing it): ask it now and then.
                if (!await connection.WaitAsync(settings.ListenerProbeInterval, cancellationToken))
                {
                    await using var probe = new NpgsqlCommand("SELECT 1", connection);
                    await probe.ExecuteScalarAsync(cancellationToken);
                }
            }
        }
        finally
        {
            // The pool keeps session state (NoResetOnClose): a connection that goes back to it must not listen on.
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
                await ((Task)unlisten.ExecuteNonQueryAsync(CancellationToken.None)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private void Deliver(string channel, string payload)
    {
        if (channel == TurnEvents.EventsChannel)
        {
            registry.Wake(payload);
        }
        else if (StreamFrames.Live(payload) is var (sessionId, frame))
        {
            registry.Live(sessionId, frame);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for session stream events")]
    private partial void LogListening();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The session stream listener lost its database connection; reconnecting in {Delay}")]
    private partial void LogConnectionLost(Exception exception, TimeSpan delay);
}
