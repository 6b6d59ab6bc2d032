using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansGateway.Cli.Commands;

namespace OrleansGateway.Cli.Demo;

/// <summary>A session as <c>GET /api/sessions/{id}</c> shows it.</summary>
public sealed record SessionDocument(string SessionId, string Phase, string? ResumeReason, int ResumeAttempts, string? OwnerSilo, IReadOnlyList<TurnDocument> Turns);

public sealed record TurnDocument(string TurnId, string MessageId, string Status, int StepsDone, int? StepsTotal, int Executions, string? Reply)
{
    public bool IsCompleted => Status == "completed";
}

/// <summary>What one read of a session found: the session, or (null) that the gateway does not know it.</summary>
public sealed record SessionRead(SessionDocument? Session);

/// <summary>The gateway's HTTP API as a user calls it; any silo answers for any session.</summary>
public sealed class GatewayApi : IDisposable
{
    private const int PostAttempts = 3;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    private sealed record PostedMessage(string SessionId, string MessageId, string TurnId);

    /// <summary>
    /// Posts a message and returns the id of the turn it started. A failed attempt is repeated with the same
    /// message id, which the gateway takes as the same message, never as a second turn.
    /// </summary>
    public async Task<string> PostMessageAsync(Uri silo, string sessionId, string messageId, string text, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            string problem;
            try
            {
                using var response = await _http.PostAsJsonAsync(new Uri(silo, $"api/sessions/{sessionId}/messages"), new { text, messageId }, Json, timeout.Token);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var posted = await response.Content.ReadFromJsonAsync<PostedMessage>(Json, timeout.Token);
                    return posted?.TurnId ?? throw new CliError($"POST to session {sessionId} answered 202 without a turn id");
                }

                problem = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(timeout.Token)}";
                if ((int)response.StatusCode < 500)
                {
                    throw new CliError($"{silo} refused the message for session {sessionId}: {problem}");
                }
            }
            catch (Exception exception) when (exception is HttpRequestException || exception is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                problem = exception.Message;
            }

            if (attempt == PostAttempts)
            {
                throw new CliError($"cannot post to session {sessionId} on {silo}: {problem}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), cancellationToken);
        }
    }

    /// <summary>Reads a session; null when the silo did not answer in time or answered with an error.</summary>
    public async Task<SessionRead?> TryGetSessionAsync(Uri silo, string sessionId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await _http.GetAsync(new Uri(silo, $"api/sessions/{sessionId}"), deadline.Token);
            return response.StatusCode switch
            {
                HttpStatusCode.OK => new SessionRead(await response.Content.ReadFromJsonAsync<SessionDocument>(Json, deadline.Token)),
                HttpStatusCode.NotFound => new SessionRead(null),
                _ => null,
            };
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException || exception is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // A silo that stops, or a session whose activation sat on a killed silo: the next poll asks again.
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
