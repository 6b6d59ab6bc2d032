using Microsoft.Extensions.Options;
using OrleansGateway.Agents;

namespace OrleansGateway.Tests.Agents;

public sealed class ScriptedAgentTests
{
    private readonly ScriptedAgent _agent = Create(new ScriptedAgentOptions());

    [Theory]
    [InlineData("work 20x500", 20)]
    [InlineData("work 1x0", 1)]
    [InlineData("work 10000x600000", 10000)]
    [InlineData("hello there", 1)]
    [InlineData("work twenty", 1)]
    public void Accepts_and_plans(string text, int steps)
    {
        Assert.Null(_agent.Validate(text));
        Assert.Equal(steps, _agent.PlannedSteps(text));
    }

    [Theory]
    [InlineData("work 0x10", "steps must be between 1 and 10000")]
    [InlineData("work 10001x10", "steps must be between 1 and 10000")]
    [InlineData("work 99999999999999999999x1", "steps must be between 1 and 10000")]
    [InlineData("work 5x600001", "step milliseconds must be between 0 and 600000")]
    public void Rejects_out_of_range_work(string text, string reason) => Assert.Equal(reason, _agent.Validate(text));

    [Fact]
    public async Task Work_runs_one_step_at_a_time_and_replies_after_the_last()
    {
        var turn = new AgentStep("s", "t1", "work 3x0", 0);
        Assert.Null((await _agent.RunStepAsync(turn, CancellationToken.None)).Reply);
        Assert.Null((await _agent.RunStepAsync(turn with { Index = 1 }, CancellationToken.None)).Reply);
        Assert.Equal("done 3 steps", (await _agent.RunStepAsync(turn with { Index = 2 }, CancellationToken.None)).Reply);
    }

    [Fact]
    public async Task Other_text_is_echoed_in_one_step() =>
        Assert.Equal("hi there", (await _agent.RunStepAsync(new AgentStep("s", "t1", "hi there", 0), CancellationToken.None)).Reply);

    [Fact]
    public async Task A_step_stops_when_cancelled()
    {
        using var cancel = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _agent.RunStepAsync(new AgentStep("s", "t1", "work 1x600000", 0), cancel.Token));
    }

    [Fact]
    public async Task Fault_texts_are_plain_text_unless_fault_injection_is_on()
    {
        var faulty = Create(new ScriptedAgentOptions { FaultInjection = true });

        Assert.Equal("fail", (await _agent.RunStepAsync(new AgentStep("s", "t1", "fail", 0), CancellationToken.None)).Reply);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => faulty.RunStepAsync(new AgentStep("s", "t1", "fail", 0), CancellationToken.None));
        Assert.Equal("scripted failure", error.Message);
    }

    [Fact]
    public async Task With_a_step_trace_each_step_records_its_start_and_its_end_with_the_execution_and_how_it_ended()
    {
        var folder = Directory.CreateTempSubdirectory("ogw-steps-").FullName;
        var options = Options.Create(new ScriptedAgentOptions { StepTrace = folder });
        using var writer = new StepTraceWriter(options, TimeProvider.System);
        var traced = new ScriptedAgent(TimeProvider.System, options, writer);
        var step = new AgentStep("s", "t1", "work 2x0", 0) { Execution = "silo/a1/7" };

        await traced.RunStepAsync(step, CancellationToken.None);
        await traced.RunStepAsync(step with { Index = 1 }, CancellationToken.None);
        using var cancel = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => traced.RunStepAsync(new AgentStep("s", "t2", "work 1x600000", 0), cancel.Token));

        var file = Assert.Single(Directory.GetFiles(folder));
        Assert.Equal($"{Environment.ProcessId}.steps", Path.GetFileName(file));
        var entries = File.ReadAllLines(file).Select(StepTraceEntry.TryParse).ToList();
        Assert.All(entries, Assert.NotNull);
        Assert.Equal(["start 0 ", "end 0 continue", "start 1 ", "end 1 complete", "start 0 ", "end 0 cancelled"],
            entries.Select(e => $"{(e!.Event == StepTraceEvent.Start ? "start" : "end")} {e.Step} {e.Outcome}"));
        Assert.All(entries.Take(4), e => Assert.Equal(("s", "t1", "silo/a1/7", Environment.ProcessId), (e!.SessionId, e.TurnId, e.Execution, e.ProcessId)));
        Directory.Delete(folder, recursive: true);
    }

    private static ScriptedAgent Create(ScriptedAgentOptions options) =>
        new(TimeProvider.System, Options.Create(options), new StepTraceWriter(Options.Create(options), TimeProvider.System));
}
