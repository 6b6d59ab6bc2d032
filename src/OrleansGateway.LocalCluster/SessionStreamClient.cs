using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;

namespace OrleansGateway.LocalCluster;

/// <summary>
/// One message of a session's stream: a stored event (<see cref="Id"/> set, the client's resume point), a live one
/// (no id), the starting point of a stream opened without one (an id and no event), or a comment such as the heartbeat
/// (<see cref="Comment"/> set, no event).
/// </summary>
public sealed record StreamMessage(long? Id, string? Event, string Data, string? Comment = null);

/// <summary><c>GET /api/sessions/{id}/stream</c> as a client reads it: connect (resuming after an event id), then read its messages.</summary>
public static class SessionStreamClient
{
    public const string LastEventIdHeader = "Last-Event-ID";

    /// <summary>
    /// Opens the stream; the answer's headers are in when this returns (the silo has registered the stream by then).
    /// <paramref name="lastEventId"/> resumes after that event (0: from the start); null starts with the events to come.
    /// </summary>
    public static async Task<HttpResponseMessage> ConnectAsync(HttpClient http, Uri silo, string sessionId, long? lastEventId,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(silo, $"api/sessions/{Uri.EscapeDataString(sessionId)}/stream"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id)
        {
            request.Headers.TryAddWithoutValidation(LastEventIdHeader, id.ToString(CultureInfo.InvariantCulture));
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>The messages of an open stream, as they come, until it ends.</summary>
    public static async IAsyncEnumerable<StreamMessage> ReadAsync(Stream body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8);
        var (id, kind, data) = ((string?)null, (string?)null, new StringBuilder());
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                // An id alone is the stream's starting point: no event, but where to resume.
                if (kind is not null || data.Length > 0 || id is not null)
                {
                    yield return new StreamMessage(long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null,
                        kind, data.ToString());
                }

                (id, kind) = (null, null);
                data.Clear();
                continue;
            }

            if (line[0] == ':')
            {
                yield return new StreamMessage(null, null, "", line[1..].Trim());
                continue;
            }

            var colon = line.IndexOf(':');
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..]);
            value = value.StartsWith(' ') ? value[1..] : value;
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    kind = value;
                    break;
                case "data":
                    data.Append(data.Length > 0 ? "\n" : "").Append(value);
                    break;
            }
        }
    }
}
