using System.Collections.Concurrent;

using OrleansGateway.LocalCluster;
using OrleansGateway.Sessions;

namespace OrleansGateway.Cli.Demo.Chaos;

/// <summary>A message the gateway acknowledged with 202, and what the soak last saw of its turn.</summary>
public sealed class AckedMessage(string sessionId, string messageId, string turnId, int steps)
{
    public string SessionId { get; } = sessionId;

    public string MessageId { get; } = messageId;

    public string TurnId { get; } = turnId;

    public int Steps { get; } = steps;

    public TurnResponse? LastSeen { get; set; }

    /// <summary>Completed with the reply its work asks for.</summary>
    public bool Completed => LastSeen is { IsCompleted: true } turn && turn.Reply == $"done {Steps} steps";

    /// <summary>Ended otherwise: failed (an abandoned turn fails too), or completed with a wrong reply.</summary>
    public bool EndedBadly => LastSeen is { Status: "failed" } || LastSeen is { IsCompleted: true } && !Completed;
}

/// <summary>
/// The soak's users: every session posts work, waits for it (sometimes queueing a second message behind the first),
/// and posts again, against whichever silos are up. An unanswered POST is repeated with the same message id until it
/// is answered, so that every message ends acknowledged or refused; a refusal is a finding, as the work is healthy.
/// </summary>
public sealed class ChaosTraffic(GatewayApi api, Func<IReadOnlyList<Uri>> silosUp, IReadOnlyList<string> sessionIds, int stepMilliseconds, int seed)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentQueue<AckedMessage> _acked = new();
    private readonly ConcurrentQueue<string> _refusals = new();

    public IReadOnlyList<AckedMessage> Acked => [.. _acked];

    public IReadOnlyList<string> Refusals => [.. _refusals];

    public IReadOnlyList<AckedMessage> InFlight => [.. _acked.Where(message => !message.Completed && !message.EndedBadly)];

    /// <summary>Posts until <paramref name="posting"/> ends, then returns once every acknowledged message was answered.</summary>
    public Task RunAsync(CancellationToken posting, CancellationToken stop) =>
        Task.WhenAll(sessionIds.Select((sessionId, index) => RunSessionAsync(sessionId, index, new Random(HashCode.Combine(seed, index)), posting, stop)));

    /// <summary>
    /// Follows every acknowledged message until its turn ended, then reads every turn of every session once more for the
    /// final account; false when some did not end within <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitForAllAsync(TimeSpan timeout, CancellationToken stop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(timeout);
        var ended = true;
        try
        {
            await Task.WhenAll(sessionIds.Select(sessionId => FollowAsync(sessionId, deadline.Token)));
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            ended = false;
        }

        await Task.WhenAll(sessionIds.Select(sessionId => ReadEveryTurnAsync(sessionId, stop)));
        return ended;
    }

    private async Task RunSessionAsync(string sessionId, int home, Random random, CancellationToken posting, CancellationToken stop)
    {
        for (var number = 1; !posting.IsCancellationRequested; number++)
        {
            var steps = random.Next(ChaosSettings.MinSteps, ChaosSettings.MaxSteps + 1);
            var acked = await PostAsync(sessionId, home, $"{sessionId}-m{number}", $"work {steps}x{stepMilliseconds}", steps, stop);
            if (acked is null)
            {
                return;
            }

            // Now and then a second message, queued behind the first.
            if (random.NextDouble() >= 0.3)
            {
                try
                {
                    await FollowAsync(sessionId, posting);
                }
                catch (OperationCanceledException) when (posting.IsCancellationRequested)
                {
                    return;
                }

                await Task.Delay(random.Next(0, 1_000), stop);
            }
        }
    }

    /// <summary>Posts to the session's home silo (sessions are spread over the silos), or the next one up when it does not answer.</summary>
    private async Task<AckedMessage?> PostAsync(string sessionId, int home, string messageId, string text, int steps, CancellationToken stop)
    {
        for (var attempt = 0; ; attempt++)
        {
            var silos = silosUp();
            if (silos.Count > 0)
            {
                var answer = await api.TryPostMessageAsync(silos[(home + attempt) % silos.Count], sessionId, messageId, text, TimeSpan.FromSeconds(10), stop);
                if (answer.TurnId is { } turnId)
                {
                    var acked = new AckedMessage(sessionId, messageId, turnId, steps);
                    _acked.Enqueue(acked);
                    return acked;
                }

                if (answer.Refused)
                {
                    _refusals.Enqueue($"message {messageId} was refused: {answer.Problem}");
                    return null;
                }
            }

            await Task.Delay(Poll, stop);
        }
    }

    /// <summary>
    /// Reads the session until every turn acknowledged for it has ended: the turns from the oldest still open on, so that
    /// a read does not grow with the session's history.
    /// </summary>
    private async Task FollowAsync(string sessionId, CancellationToken stop)
    {
        for (var attempt = 0; ; attempt++)
        {
            var open = _acked.Where(message => message.SessionId == sessionId && !message.Completed && !message.EndedBadly).ToList();
            if (open.Count == 0)
            {
                return;
            }

            var oldest = open.Min(message => TurnIds.Parse(message.TurnId));
            var silos = silosUp();
            if (silos.Count > 0 && await api.TryGetSessionFromTurnAsync(silos[attempt % silos.Count], sessionId, oldest, TimeSpan.FromSeconds(5), stop) is { Session: { } session })
            {
                See(open, session);
            }

            await Task.Delay(Poll, stop);
        }
    }

    /// <summary>
    /// The final account's read: every turn of the session, paged back through the cursor, for every message acknowledged
    /// for it (a turn that ran again after it was seen ending counts its executions). Asked of each silo up in turn.
    /// </summary>
    private async Task ReadEveryTurnAsync(string sessionId, CancellationToken stop)
    {
        var silos = silosUp();
        foreach (var silo in silos)
        {
            if (await api.TryGetSessionAsync(silo, sessionId, TimeSpan.FromSeconds(10), stop) is { Session: { } session })
            {
                See([.. _acked.Where(message => message.SessionId == sessionId)], session);
                return;
            }
        }
    }

    private static void See(IReadOnlyList<AckedMessage> messages, SessionResponse session)
    {
        foreach (var message in messages)
        {
            message.LastSeen = session.Turns.FirstOrDefault(turn => turn.TurnId == message.TurnId) ?? message.LastSeen;
        }
    }
}
