using System.Collections.Concurrent;
using System.Net;
using OrleansGateway.Cli.Commands;
using OrleansGateway.LocalCluster;
using OrleansGateway.Operations;

namespace OrleansGateway.Cli.Chat;

/// <summary>
/// <c>ogw chat</c>: posts each line of input to the session and prints the session's stream, one reply at a time. The
/// stream is opened before the first post (for a session that does not exist yet, right after it, from its first event),
/// and reopened on any silo with the last event id when it breaks, so that no stored event is missed or printed twice.
/// </summary>
internal sealed class ChatSession(IReadOnlyList<Uri> silos, string sessionId, TextWriter output, string? apiKey = null) : IDisposable
{
    private static readonly TimeSpan PostTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ReconnectPatience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RoundPause = TimeSpan.FromMilliseconds(500);

    private readonly HttpClient _http = GatewayApi.CreateHttpClient(apiKey);
    private readonly GatewayApi _api = new(apiKey);
    private readonly ChatPrinter _printer = new(output);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _turnEnds = new(StringComparer.Ordinal);

    // The silo that answered last is asked first; a silo that fails sends the next request to the one after it.
    private int _preferred;
    // Null until the stream names its starting point: a reconnect then starts with the events to come.
    private long? _lastEventId;

    public async Task<int> RunAsync(TextReader input, CancellationToken cancellationToken)
    {
        using var leaving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var opened = await ConnectAsync(lastEventId: null, cancellationToken);
        var follow = opened is null ? null : FollowAsync(opened, leaving.Token);
        try
        {
            while (await input.ReadLineAsync(cancellationToken) is { } line)
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var turnId = await PostAsync(line, cancellationToken);
                // A session that did not exist: this post made it, so its whole stream is this conversation's.
                follow ??= FollowAsync(await ConnectAsync(lastEventId: 0, cancellationToken) ?? throw Gone(), leaving.Token);
                var ended = TurnEnd(turnId).Task;
                if (await Task.WhenAny(ended, follow) == follow)
                {
                    await follow;
                }
            }

            return 0;
        }
        finally
        {
            await leaving.CancelAsync();
            if (follow is not null)
            {
                await follow.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _api.Dispose();
    }

    /// <summary>Prints the stream until cancelled, reconnecting after the last event it printed whenever it breaks.</summary>
    private async Task FollowAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        while (true)
        {
            using (response)
            {
                try
                {
                    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                    await foreach (var message in SessionStreamClient.ReadAsync(body, cancellationToken))
                    {
                        _lastEventId = message.Id ?? _lastEventId;
                        if (_printer.Print(message) is { } ended)
                        {
                            TurnEnd(ended).TrySetResult();
                        }
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                {
                    // The silo went away mid-stream: the next one resumes after the last event printed.
                }
            }

            response = await ReconnectAsync(cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> ReconnectAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ReconnectPatience;
        while (true)
        {
            try
            {
                return await ConnectAsync(_lastEventId, cancellationToken) ?? throw Gone();
            }
            catch (CliError) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(RoundPause, cancellationToken);
            }
        }
    }

    /// <summary>The open stream from the first silo that answers, or null when the session does not exist (404).</summary>
    private async Task<HttpResponseMessage?> ConnectAsync(long? lastEventId, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var silo in InTurn())
        {
            HttpResponseMessage response;
            try
            {
                response = await SessionStreamClient.ConnectAsync(_http, silo, sessionId, lastEventId, cancellationToken);
            }
            catch (HttpRequestException exception)
            {
                problems.Add($"{silo}: {exception.Message}");
                Skip();
                continue;
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                var answer = ApiErrorText.Describe((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }

                if ((int)response.StatusCode < 500)
                {
                    throw new CliError($"{silo} refused the stream of session {sessionId}: {answer}");
                }

                problems.Add($"{silo}: {answer}");
                Skip();
            }
        }

        throw CliError.Unavailable($"no silo answered for session {sessionId}: {string.Join("; ", problems)}");
    }

    private async Task<string> PostAsync(string text, CancellationToken cancellationToken)
    {
        var messageId = $"chat-{Guid.NewGuid():N}";
        var problems = new List<string>();
        foreach (var silo in InTurn())
        {
            // The same message id on every silo: one that stored it but did not answer in time starts nothing twice.
            var answer = await _api.TryPostMessageAsync(silo, sessionId, messageId, text, PostTimeout, cancellationToken);
            if (answer.TurnId is { } turnId)
            {
                return turnId;
            }

            if (answer.Refused)
            {
                throw new CliError($"the message was refused: {answer.Problem}");
            }

            problems.Add($"{silo}: {answer.Problem}");
            Skip();
        }

        throw CliError.Unavailable($"no silo took the message for session {sessionId}: {string.Join("; ", problems)}");
    }

    private IEnumerable<Uri> InTurn()
    {
        var first = _preferred;
        return Enumerable.Range(0, silos.Count).Select(i => silos[(first + i) % silos.Count]);
    }

    private void Skip() => _preferred = (_preferred + 1) % silos.Count;

    private TaskCompletionSource TurnEnd(string turnId) =>
        _turnEnds.GetOrAdd(turnId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private CliError Gone() => new($"session {sessionId} does not exist (any more)");
}
