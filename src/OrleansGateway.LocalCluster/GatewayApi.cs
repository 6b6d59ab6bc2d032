using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;

namespace OrleansGateway.LocalCluster;

/// <summary>What one POST of a message came to: the turn it started, or a refusal (4xx), or neither (no answer, 5xx) and why.</summary>
public sealed record PostAnswer(string? TurnId, bool Refused, string Problem);

/// <summary>What one read of a session found: the session, or (null) that the gateway does not know it.</summary>
public sealed record SessionRead(SessionResponse? Session);

/// <summary>The gateway's HTTP API as a user calls it; any silo answers for any session.</summary>
public sealed class GatewayApi : IDisposable
{
    private const int PostAttempts = 3;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    /// <param name="apiKey">The client key to send, for silos with API clients (<c>Gateway:Clients</c>); null for an open API.</param>
    public GatewayApi(string? apiKey = null) => _http = CreateHttpClient(apiKey);

    /// <summary>An HTTP client without a timeout of its own (each call sets one) that sends <paramref name="apiKey"/>.</summary>
    public static HttpClient CreateHttpClient(string? apiKey)
    {
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(apiKey))
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return http;
    }

    /// <summary>
    /// Posts a message and returns the id of the turn it started. A failed attempt is repeated with the same
    /// message id, which the gateway takes as the same message, never as a second turn.
    /// </summary>
    public async Task<string> PostMessageAsync(Uri silo, string sessionId, string messageId, string text, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var answer = await TryPostMessageAsync(silo, sessionId, messageId, text, TimeSpan.FromSeconds(15), cancellationToken);
            if (answer.TurnId is { } turnId)
            {
                return turnId;
            }

            if (answer.Refused)
            {
                throw new LocalClusterException($"{silo} refused the message for session {sessionId}: {answer.Problem}");
            }

            if (attempt == PostAttempts)
            {
                throw new LocalClusterException($"cannot post to session {sessionId} on {silo}: {answer.Problem}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), cancellationToken);
        }
    }

    /// <summary>One attempt to post a message: the turn it started (202), a refusal (4xx), or why there was no answer to go by.</summary>
    public async Task<PostAnswer> TryPostMessageAsync(Uri silo, string sessionId, string messageId, string text, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await _http.PostAsJsonAsync(new Uri(silo, $"api/sessions/{sessionId}/messages"), new { text, messageId }, Json, deadline.Token);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                var posted = await response.Content.ReadFromJsonAsync<PostMessageResponse>(Json, deadline.Token);
                return posted?.TurnId is { } turnId
                    ? new PostAnswer(turnId, Refused: false, "")
                    : throw new LocalClusterException($"POST to session {sessionId} answered 202 without a turn id");
            }

            var problem = ApiErrorText.Describe((int)response.StatusCode, await response.Content.ReadAsStringAsync(deadline.Token));
            return new PostAnswer(null, Refused: (int)response.StatusCode < 500, problem);
        }
        catch (Exception exception) when (exception is HttpRequestException || exception is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new PostAnswer(null, Refused: false, exception.Message);
        }
    }

    /// <summary>
    /// Reads a session with every turn, paging back through the cursor (<c>/turns?before=</c>), so that a long history is
    /// read in pages; null when the silo did not answer in time or answered with an error.
    /// </summary>
    public Task<SessionRead?> TryGetSessionAsync(Uri silo, string sessionId, TimeSpan timeout, CancellationToken cancellationToken) =>
        TryGetSessionFromTurnAsync(silo, sessionId, firstTurn: 1, timeout, cancellationToken);

    /// <summary>Reads a session with its newest <paramref name="turns"/> turns only (<c>?turns=</c>): its cost does not grow with its history.</summary>
    public Task<SessionRead?> TryGetSessionWithNewestAsync(Uri silo, string sessionId, int turns, TimeSpan timeout, CancellationToken cancellationToken) =>
        TryReadAsync(timeout, cancellationToken, token => GetSessionAsync(silo, sessionId, turns, token));

    /// <summary>
    /// Reads a session with its turns from the turn numbered <paramref name="firstTurn"/> (<c>t1</c> is 1) to the newest:
    /// the newest page, then older pages through the cursor until that turn is in. A silo of release 0.1 sends every turn
    /// and no cursor.
    /// </summary>
    public Task<SessionRead?> TryGetSessionFromTurnAsync(Uri silo, string sessionId, int firstTurn, TimeSpan timeout, CancellationToken cancellationToken) =>
        TryReadAsync(timeout, cancellationToken, async token =>
        {
            var read = await GetSessionAsync(silo, sessionId, TurnPageLimits.DefaultTurns, token);
            if (read?.Session is not { } session)
            {
                return read;
            }

            var turns = session.Turns.ToList();
            var before = session.TurnsBefore;
            while (before is not null && (turns.Count == 0 || TurnIds.Parse(turns[0].TurnId) > firstTurn))
            {
                using var response = await _http.GetAsync(
                    new Uri(silo, $"api/sessions/{sessionId}/turns?before={before}&limit={TurnPageLimits.MaxTurns}"), token);
                if (response.StatusCode != HttpStatusCode.OK || await response.Content.ReadFromJsonAsync<TurnPageResponse>(Json, token) is not { } page)
                {
                    return null;
                }

                turns.InsertRange(0, page.Turns.Reverse());
                before = page.Before;
            }

            return read with { Session = session with { Turns = turns, TurnsBefore = before } };
        });

    /// <summary>The session with its newest turns (null: the gateway does not know it), or null for any other answer.</summary>
    private async Task<SessionRead?> GetSessionAsync(Uri silo, string sessionId, int turns, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(silo, $"api/sessions/{sessionId}?turns={turns}"), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => new SessionRead(await response.Content.ReadFromJsonAsync<SessionResponse>(Json, cancellationToken)),
            HttpStatusCode.NotFound => new SessionRead(null),
            _ => null,
        };
    }

    /// <summary>A read within <paramref name="timeout"/>; null when it did not come to an answer.</summary>
    private static async Task<SessionRead?> TryReadAsync(TimeSpan timeout, CancellationToken cancellationToken, Func<CancellationToken, Task<SessionRead?>> read)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await read(deadline.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException || exception is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // A silo that stops, or a session whose activation sat on a killed silo: the next poll asks again.
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
