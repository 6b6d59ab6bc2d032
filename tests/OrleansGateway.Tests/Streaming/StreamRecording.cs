using System.Collections.Concurrent;
using System.Net;
using OrleansGateway.LocalCluster;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Streaming;

/// <summary>A session stream read in the background into a list, as a test client reads it, until disposed.</summary>
public sealed class StreamRecording : IAsyncDisposable
{
    private readonly ConcurrentQueue<StreamMessage> _messages = new();
    private readonly CancellationTokenSource _leaving = new();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private Task _reading = Task.CompletedTask;

    public HttpResponseMessage Response { get; private set; } = null!;

    public IReadOnlyList<StreamMessage> Messages => [.. _messages];

    /// <summary>The events (stored and live), without comments and starting points.</summary>
    public IReadOnlyList<StreamMessage> Events => [.. _messages.Where(message => message.Event is not null)];

    public IReadOnlyList<StreamMessage> Stored => [.. Events.Where(message => message.Id is not null)];

    /// <summary>True once the silo ended the stream (or the connection broke).</summary>
    public bool Ended => _reading.IsCompleted;

    public static async Task<StreamRecording> OpenAsync(Uri silo, string sessionId, long? lastEventId = null)
    {
        var recording = new StreamRecording();
        recording.Response = await SessionStreamClient.ConnectAsync(recording._http, silo, sessionId, lastEventId, CancellationToken.None);
        if (recording.Response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Fail($"GET stream of {sessionId}: {(int)recording.Response.StatusCode} {await recording.Response.Content.ReadAsStringAsync()}");
        }

        recording._reading = Task.Run(recording.ReadAsync);
        return recording;
    }

    public Task WaitForAsync(Func<IReadOnlyList<StreamMessage>, bool> condition, string what, int seconds = 30) =>
        Eventually.UntilAsync(() => Task.FromResult(condition(Messages)), TimeSpan.FromSeconds(seconds),
            () => $"{what}; the stream brought:\n{Describe()}", pollMilliseconds: 50);

    /// <summary>Waits for the end (completed or failed) of <paramref name="turnId"/>.</summary>
    public Task WaitForEndOfAsync(string turnId, int seconds = 30) =>
        WaitForAsync(_ => Events.Any(e => e.Event is "completed" or "failed" && e.Data.Contains($"\"turnId\":\"{turnId}\"", StringComparison.Ordinal)),
            $"{turnId} did not end", seconds);

    public string Describe() => string.Join("\n", Messages.Select(m => $"{m.Id} {m.Event ?? ": " + m.Comment} {m.Data}"));

    public async ValueTask DisposeAsync()
    {
        await _leaving.CancelAsync();
        Response.Dispose();
        await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
        _leaving.Dispose();
    }

    private async Task ReadAsync()
    {
        await using var body = await Response.Content.ReadAsStreamAsync(_leaving.Token);
        await foreach (var message in SessionStreamClient.ReadAsync(body, _leaving.Token))
        {
            _messages.Enqueue(message);
        }
    }
}
