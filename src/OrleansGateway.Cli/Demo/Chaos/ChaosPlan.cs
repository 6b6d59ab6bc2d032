namespace OrleansGateway.Cli.Demo.Chaos;

/// <summary>What a round of the soak does to the cluster.</summary>
public enum ChaosAction
{
    Terminate,
    KillInDrain,
    Kill,
    Zombie,
    PostgresRestart,
    OperatorSuspend,
    DashboardDrain,
}

/// <summary>
/// One round: its action, the session it picks and the silo it falls back on (by index; a stop picks the silo that
/// runs the most turns then), and how long its pause lasts.
/// </summary>
public sealed record ChaosRound(int Number, ChaosAction Action, int Silo, int Session, TimeSpan Pause)
{
    public string Name => Action switch
    {
        ChaosAction.Terminate => "SIGTERM",
        ChaosAction.KillInDrain => "SIGKILL in drain",
        ChaosAction.Kill => "SIGKILL",
        ChaosAction.Zombie => "SIGSTOP, SIGCONT",
        ChaosAction.PostgresRestart => "PostgreSQL restart",
        ChaosAction.OperatorSuspend => "suspend, resume",
        ChaosAction.DashboardDrain => "dashboard drain",
        _ => Action.ToString(),
    };
}

/// <summary>
/// The rounds a seed stands for. Actions are dealt from a shuffled deck, so that every action comes once in each
/// run of as many rounds as there are actions, in an order the seed decides; the timing of a run is the machine's.
/// </summary>
public static class ChaosPlan
{
    public static IReadOnlyList<ChaosRound> Draw(int seed, int rounds, int silos, int sessions, IReadOnlyCollection<ChaosAction> actions)
    {
        var random = new Random(seed);
        var deck = new Queue<ChaosAction>();
        var plan = new List<ChaosRound>();
        for (var number = 1; number <= rounds; number++)
        {
            if (deck.Count == 0)
            {
                var shuffled = actions.ToArray();
                random.Shuffle(shuffled);
                deck = new Queue<ChaosAction>(shuffled);
            }

            var action = deck.Dequeue();
            // The pause: how far into its drain a kill comes, how long PostgreSQL stays down, a suspension lasts.
            var pause = action switch
            {
                ChaosAction.KillInDrain => TimeSpan.FromMilliseconds(random.Next(200, 2_000)),
                ChaosAction.PostgresRestart => TimeSpan.FromMilliseconds(random.Next(1_000, 5_000)),
                ChaosAction.OperatorSuspend => TimeSpan.FromMilliseconds(random.Next(500, 3_000)),
                _ => TimeSpan.Zero,
            };
            plan.Add(new ChaosRound(number, action, random.Next(silos), random.Next(sessions), pause));
        }

        return plan;
    }
}
