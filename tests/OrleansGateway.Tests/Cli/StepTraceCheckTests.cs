using OrleansGateway.Agents;
using OrleansGateway.Cli.Demo.Chaos;

namespace OrleansGateway.Tests.Cli;

/// <summary>The chaos soak's overlap check, on traces written by hand: it must see what it is there to see.</summary>
public sealed class StepTraceCheckTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyDictionary<int, DateTimeOffset> NoExits = new Dictionary<int, DateTimeOffset>();

    [Fact]
    public void Executions_one_after_the_other_do_not_overlap()
    {
        var findings = Check([.. Step("a", 100, 0, from: 0, until: 1), .. Step("b", 200, 1, from: 1, until: 2), .. Step("b", 200, 2, from: 2, until: 3)]);

        Assert.Empty(findings.Overlaps);
        Assert.Equal(2, findings.Executions[("s", "t1")]);
    }

    [Fact]
    public void Two_executions_running_a_step_at_once_are_an_overlap()
    {
        var findings = Check([.. Step("a", 100, 3, from: 0, until: 2), .. Step("b", 200, 3, from: 1, until: 3)]);

        var overlap = Assert.Single(findings.Overlaps);
        Assert.Contains("step 4 of a and step 4 of b ran at the same time", overlap);
    }

    [Fact]
    public void A_step_cut_short_by_a_kill_ran_until_its_process_ended()
    {
        var killed = new Dictionary<int, DateTimeOffset> { [100] = At(2) };
        var started = Entry("a", 100, 0, StepTraceEvent.Start, at: 0);

        Assert.Empty(Check([started, .. Step("b", 200, 0, from: 3, until: 4)], exits: killed).Overlaps);
        Assert.Single(Check([started, .. Step("b", 200, 0, from: 1, until: 4)], exits: killed).Overlaps);
        // A process that has not ended runs its open step still.
        Assert.Single(Check([started, .. Step("b", 200, 0, from: 30, until: 31)], now: At(60)).Overlaps);
    }

    [Fact]
    public void Time_frozen_is_not_running_time_and_a_woken_execution_may_only_finish_its_step()
    {
        var freeze = new Freeze(100, At(1), At(10));
        List<StepTraceEntry> zombie = [.. Step("a", 100, 2, from: 0, until: 10.01)];
        List<StepTraceEntry> successor = [.. Step("b", 200, 2, from: 6, until: 9), .. Step("b", 200, 3, from: 9, until: 12)];

        var findings = Check([.. zombie, .. successor], [freeze]);
        Assert.Empty(findings.Overlaps);
        Assert.Empty(findings.StepsAfterWaking);
        Assert.Equal(1, findings.FrozenTails);

        // The successor running before the freeze began overlaps; the zombie starting another step after it woke is a violation.
        Assert.Single(Check([.. zombie, .. Step("b", 200, 2, from: 0.5, until: 2)], [freeze]).Overlaps);
        var woke = Check([.. zombie, .. Step("a", 100, 3, from: 10.02, until: 10.03), .. successor], [freeze]);
        Assert.Contains("a started step 4 after its process woke", Assert.Single(woke.StepsAfterWaking));
    }

    [Fact]
    public void A_line_cut_short_by_a_kill_is_skipped()
    {
        var line = Entry("a", 100, 0, StepTraceEvent.Start, at: 0).Format();

        Assert.NotNull(StepTraceEntry.TryParse(line));
        Assert.Null(StepTraceEntry.TryParse(line[..^4]));
    }

    [Fact]
    public void A_seed_deals_every_action_once_per_deck_and_always_the_same_rounds()
    {
        var actions = Enum.GetValues<ChaosAction>();
        var plan = ChaosPlan.Draw(seed: 7, rounds: 2 * actions.Length, silos: 3, sessions: 12, actions);

        Assert.Equal(actions.Order(), plan.Take(actions.Length).Select(r => r.Action).Order());
        Assert.Equal(actions.Order(), plan.Skip(actions.Length).Select(r => r.Action).Order());
        Assert.Equal(plan, ChaosPlan.Draw(seed: 7, rounds: 2 * actions.Length, silos: 3, sessions: 12, actions));
        Assert.NotEqual(plan, ChaosPlan.Draw(seed: 8, rounds: 2 * actions.Length, silos: 3, sessions: 12, actions));
    }

    private static StepTraceFindings Check(IReadOnlyList<StepTraceEntry> entries, IReadOnlyList<Freeze>? freezes = null,
        IReadOnlyDictionary<int, DateTimeOffset>? exits = null, DateTimeOffset? now = null) =>
        StepTraceCheck.Check(entries, freezes ?? [], exits ?? NoExits, now ?? At(100));

    private static IEnumerable<StepTraceEntry> Step(string execution, int processId, int step, double from, double until) =>
        [Entry(execution, processId, step, StepTraceEvent.Start, from), Entry(execution, processId, step, StepTraceEvent.End, until, "continue")];

    private static StepTraceEntry Entry(string execution, int processId, int step, StepTraceEvent kind, double at, string outcome = "") =>
        new(At(at), kind, "s", "t1", step, execution, processId, outcome);

    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);
}
