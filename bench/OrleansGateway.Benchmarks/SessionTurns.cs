using System.Net;
using System.Text.Json;

namespace OrleansGateway.Benchmarks;

/// <summary>
/// What one <c>GET /api/sessions/{id}?turns=N</c> says about a session's turns. <see cref="TurnCount"/> is the answer's
/// <c>turnCount</c> where the silo pages its turns, else the length of <c>turns</c> (silos that list every turn ignore
/// the query). A session runs its turns in order, so turns older than the listed ones are finished: they count as
/// <see cref="Finished"/>; <see cref="Failed"/> counts only the listed ones. When every listed turn is unfinished and
/// older ones are not listed, the counts are not known (<see cref="CountsKnown"/>): the newest ones suffice to follow one turn.
/// </summary>
internal sealed record TurnTally(int TurnCount, int Finished, int Failed, string? LastMessageId, string? LastStatus, bool CountsKnown)
{
    /// <summary>This tally, or an error when it cannot count (a queue deeper than the page read).</summary>
    public TurnTally Counted(string sessionId) =>
        CountsKnown ? this : throw new InvalidOperationException($"{sessionId}: the newest turns read are all unfinished, so the count of finished ones is unknown");

    public int Completed => Finished - Failed;

    public bool AllFinished => Finished == TurnCount;
}

internal static class SessionTurns
{
    /// <summary>
    /// Enough newest turns to see every unfinished one: a session's queue here stays far shorter (checked by
    /// <see cref="TurnTally.Counted"/>), and a silo that pages its turns need not list thousands.
    /// </summary>
    public const int Page = 200;

    /// <summary>Reads the newest <paramref name="newest"/> turns of a session (the last element of <c>turns</c> is the newest); fails unless 200.</summary>
    public static async Task<TurnTally> ReadAsync(HttpClient http, Uri silo, string sessionId, int newest, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(silo, $"api/sessions/{sessionId}?turns={newest}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {sessionId} on {silo}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        var root = document.RootElement;
        var turns = root.GetProperty("turns");
        var listed = turns.GetArrayLength();
        var turnCount = root.TryGetProperty("turnCount", out var count) && count.ValueKind == JsonValueKind.Number ? count.GetInt32() : listed;
        var unfinished = 0;
        var failed = 0;
        string? lastMessageId = null;
        string? lastStatus = null;
        foreach (var turn in turns.EnumerateArray())
        {
            lastStatus = turn.GetProperty("status").GetString();
            lastMessageId = turn.GetProperty("messageId").GetString();
            switch (lastStatus)
            {
                case "completed":
                    break;
                case "failed":
                    failed++;
                    break;
                default:
                    unfinished++;
                    break;
            }
        }

        return new TurnTally(turnCount, turnCount - unfinished, failed, lastMessageId, lastStatus, CountsKnown: unfinished < listed || listed == turnCount);
    }
}
