using System.Net;
using System.Text;
using System.Text.Json;

namespace OrleansGateway.Benchmarks;

/// <summary><c>POST /api/sessions/{id}/messages</c> with a message id of the benchmark's choosing.</summary>
internal static class SessionMessages
{
    /// <summary>Posts one message; returns the status code (202 once stored, 503 when a retry with the same id may cure it).</summary>
    public static async Task<HttpStatusCode> TryPostAsync(HttpClient http, Uri silo, string sessionId, string messageId, string text,
        CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new { text, messageId });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(silo, $"api/sessions/{sessionId}/messages"), content, cancellationToken);
        return response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable
            ? response.StatusCode
            : throw new InvalidOperationException(
                $"POST {sessionId}/{messageId} on {silo}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    /// <summary>Posts one message until it is stored (202): a 503 is repeated with the same message id, which starts nothing twice.</summary>
    public static async Task PostAsync(HttpClient http, Uri silo, string sessionId, string messageId, string text, CancellationToken cancellationToken)
    {
        for (var attempt = 1; await TryPostAsync(http, silo, sessionId, messageId, text, cancellationToken) != HttpStatusCode.Accepted; attempt++)
        {
            if (attempt == 5)
            {
                throw new InvalidOperationException($"POST {sessionId}/{messageId} on {silo}: 503 five times");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
        }
    }
}
