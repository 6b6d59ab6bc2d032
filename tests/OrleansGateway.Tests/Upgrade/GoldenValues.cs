using OrleansGateway.Operations;
using OrleansGateway.Sessions;

namespace OrleansGateway.Tests.Upgrade;

/// <summary>
/// The values of the golden files under <c>Upgrade/Golden/&lt;release&gt;/</c>: every field set, nullable ones both
/// null and not, offsets that are not UTC, text beyond ASCII. A golden file holds one of these as a release wrote it.
/// </summary>
public static class GoldenValues
{
    private static readonly DateTimeOffset Accepted = new(2026, 11, 30, 10, 0, 0, 123, TimeSpan.FromHours(1));
    private const string Silo = "127.0.0.1:11111@154852577";

    public static SessionState SessionState() => new()
    {
        Turns =
        [
            new TurnRecord
            {
                TurnId = "t1", MessageId = "m-1", Text = "work 3x500", Status = TurnStatus.Completed, StepsDone = 3, StepsTotal = 3,
                Executions = 2, Reply = "done 3 steps", AcceptedAt = Accepted, FinishedAt = Accepted.AddSeconds(2.5),
            },
            new TurnRecord
            {
                TurnId = "t2", MessageId = "m-2", Text = "fail 2x10", Status = TurnStatus.Failed, StepsDone = 1, StepsTotal = 2,
                Executions = 1, Error = "scripted failure at step 2", AcceptedAt = Accepted.AddMinutes(1), FinishedAt = Accepted.AddMinutes(2),
            },
            new TurnRecord
            {
                TurnId = "t3", MessageId = "m-3", Text = "work 10x800", Status = TurnStatus.Interrupted, StepsDone = 4, StepsTotal = 10,
                Executions = 3, AcceptedAt = Accepted.AddMinutes(3),
            },
            new TurnRecord { TurnId = "t4", MessageId = "m-4", Text = "héllo ✓ \"quoted\"", Status = TurnStatus.Queued, AcceptedAt = Accepted.AddMinutes(4) },
        ],
        LastTurnNumber = 4,
    };

    public static TurnView RunningTurn { get; } = new("t3", "m-3", TurnStatus.Running, 4, 10, 3, null);

    public static TurnView CompletedTurn { get; } = new("t1", "m-1", TurnStatus.Completed, 3, 3, 2, "done 3 steps");

    public static SessionView SessionView { get; } = new("s-1", SessionPhase.ResumePending, "restart_timeout", 2, Silo,
        [CompletedTurn, RunningTurn], Accepted.AddMinutes(5), Stale: true, LastError: "silo died");

    public static SessionView IdleSessionView { get; } = new("s-2", SessionPhase.Idle, null, 0, null, []);

    public static ResumeTicket ResumeTicket { get; } = new(42, "restart_timeout", Accepted.AddMinutes(6));

    public static MessageAccepted MessageAccepted { get; } = new("s-1", "m-1", "t1", Duplicate: true);

    public static SessionMessage SessionMessage { get; } = new("m-5", "work 2x10 ✓");

    public static SessionCommandResult SessionCommandResult { get; } = new(SessionCommandStatus.Conflict, SessionPhase.Quarantined, "quarantined: release it");

    public static SiloReport SiloReport { get; } = new(Silo, Active: true, Draining: true, 3, 2, "0.1.0+78abb40", SiloStopKind.Restart);

    public static SiloStopAnswer SiloStopAnswer { get; } = new(false, "an operator already asked it to restart", SiloReport);
}
