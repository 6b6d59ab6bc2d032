using System.Text.Json;
using OrleansGateway.Agents;
using OrleansGateway.Agents.Model;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>Tool calls of the model agent: journaled, run once per journal, retried with one idempotency key.</summary>
public sealed class OpenAIAgentToolTests(PostgresFixture postgres) : ModelAgentTests(postgres)
{
    private const string EchoCall = """tool:echo:{"x":1}""";

    [Fact]
    public async Task A_tool_round_trip_journals_the_models_call_then_the_tools_result_then_replies()
    {
        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", EchoCall);

        Assert.Equal("""done: echo got {"x":1}""", run.Reply);
        Assert.Equal([ModelStep.Kind, ToolStep.Kind], run.Journal.Select(e => e.Kind));
        var model = JsonSerializer.Deserialize<ModelStep>(run.Journal[0].Data, JsonSerializerOptions.Web)!;
        Assert.Equal(new ToolCallRequest("call_1", "echo", """{"x":1}"""), Assert.Single(model.Calls));
        Assert.NotNull(run.Journal[0].Usage);
        var tool = JsonSerializer.Deserialize<ToolStep>(run.Journal[1].Data, JsonSerializerOptions.Web)!;
        Assert.Equal(new ToolStep("call_1", "echo", """echo got {"x":1}""", false), tool);
        var call = Assert.Single(Harness.Tools.Calls);
        Assert.Equal(("echo", "s1/t1/0/call_1", """{"x":1}"""), (call.Tool, call.IdempotencyKey, call.Body));
        var replayed = Harness.Model.RequestsFor(EchoCall)[1].Body["messages"]!.AsArray().Select(m => m!).ToList();
        Assert.Equal(["system", "user", "assistant", "tool"], replayed.Select(m => m["role"]!.GetValue<string>()));
        var asked = replayed[2]["tool_calls"]![0]!;
        Assert.Equal(("call_1", "echo"), (asked["id"]!.GetValue<string>(), asked["function"]!["name"]!.GetValue<string>()));
        Assert.Equal("call_1", replayed[3]["tool_call_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_resumed_turn_does_not_call_the_model_or_the_tool_again_for_journaled_steps()
    {
        var first = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", EchoCall);
        var (modelCalls, toolCalls) = (Harness.Model.Requests.Count, Harness.Tools.Calls.Count);

        // Another silo after a crash: a fresh agent, the journal of both steps.
        var resumed = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", EchoCall, journal: first.Journal);

        Assert.Equal(first.Reply, resumed.Reply);
        Assert.Equal(modelCalls + 1, Harness.Model.Requests.Count);
        Assert.Equal(toolCalls, Harness.Tools.Calls.Count);
        // What the model was sent on resume is what it was sent the first time: nothing about an interruption.
        var requests = Harness.Model.RequestsFor(EchoCall);
        Assert.Equal(requests[1].Body["messages"]!.ToJsonString(), requests[2].Body["messages"]!.ToJsonString());
    }

    [Fact]
    public async Task A_tool_call_whose_result_was_not_journaled_runs_again_with_the_same_idempotency_key()
    {
        // The silo died while the tool ran: the model's call is journaled, its result is not.
        var cut = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", EchoCall, stopAfterSteps: 2);
        var modelStepOnly = cut.Journal.Take(1).ToList();

        var resumed = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", EchoCall, journal: modelStepOnly);

        Assert.Equal("""done: echo got {"x":1}""", resumed.Reply);
        Assert.Equal(2, Assert.Single(Harness.Tools.CallsPerKey, pair => pair.Key == "s1/t1/0/call_1").Value);
        Assert.All(Harness.Tools.Calls, call => Assert.Equal("""{"x":1}""", call.Body));
        Assert.Equal(2, Harness.Model.RequestsFor(EchoCall).Count);
    }

    [Fact]
    public async Task A_repeated_call_that_the_tool_refuses_tells_the_model_it_may_have_run_and_only_then()
    {
        const string text = """tool:broken:{}""";
        const string BrokenAnswer = "tool broken answered HTTP 409: broken broke";
        var cut = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", text, stopAfterSteps: 1);
        Harness.Tools.Behave("broken", new ToolBehavior(TimeSpan.Zero, Status: 409));

        // Cut off during the tool step (step 1): its error reaches the model with the note.
        var resumed = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", text, journal: cut.Journal,
            resume: new ResumeNote("silo_stopped", InterruptedStep: 1, DateTimeOffset.UtcNow, Attempt: 1));
        // Cut off earlier (after the model's answer): the tool had not run, and its error is just an error.
        var fresh = await TurnDriver.RunAsync(Harness.Agent(), "s2", "t1", text, journal: cut.Journal,
            resume: new ResumeNote("silo_stopped", InterruptedStep: 0, DateTimeOffset.UtcNow, Attempt: 1));

        Assert.Equal($"done: {BrokenAnswer} {OpenAIAgent.RepeatedCallNote}", resumed.Reply);
        Assert.Equal($"done: {BrokenAnswer}", fresh.Reply);
    }

    [Fact]
    public async Task Several_calls_of_one_answer_run_one_per_step_in_order()
    {
        const string text = """tool:echo:{"x":1}|tool:echo:{"x":2}""";

        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", text);

        Assert.Equal("""done: echo got {"x":1} | echo got {"x":2}""", run.Reply);
        Assert.Equal([ModelStep.Kind, ToolStep.Kind, ToolStep.Kind], run.Journal.Select(e => e.Kind));
        Assert.Equal(["s1/t1/0/call_1", "s1/t1/0/call_2"], Harness.Tools.Calls.Select(c => c.IdempotencyKey));
    }

    [Fact]
    public async Task Calls_of_different_answers_get_different_keys_even_when_the_server_reuses_call_ids()
    {
        const string text = """repeat:2:echo:{"x":1}""";

        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", text);

        Assert.Equal("""done: echo got {"x":1} | echo got {"x":1}""", run.Reply);
        Assert.Equal(["s1/t1/0/call_0", "s1/t1/2/call_0"], Harness.Tools.Calls.Select(c => c.IdempotencyKey));
    }

    [Fact]
    public async Task Two_calls_of_one_answer_with_one_id_both_run_with_keys_of_their_own()
    {
        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", """twins:echo:{"x":1}""");

        Assert.Equal("""done: echo got {"x":1} | echo got {"x":1}""", run.Reply);
        Assert.Equal(["s1/t1/0/call_0", "s1/t1/0/call_0_1"], Harness.Tools.Calls.Select(c => c.IdempotencyKey));
    }

    [Theory]
    [InlineData("""tool:nosuch:{}""", "there is no tool named 'nosuch' (tools: broken, echo, slow)")]
    [InlineData("""tool:echo:{"x":"one"}""", "the arguments of tool echo do not match its schema")]
    [InlineData("""tool:echo:{}""", "the arguments of tool echo do not match its schema")]
    [InlineData("""tool:broken:{}""", "tool broken answered HTTP 500: broken broke")]
    [InlineData("""tool:slow:{}""", "tool slow did not answer within 0.3 s")]
    public async Task A_tool_that_fails_tells_the_model_and_the_turn_goes_on(string text, string error)
    {
        Harness.Tools.Behave("broken", new ToolBehavior(TimeSpan.Zero, 500));
        Harness.Tools.Behave("slow", new ToolBehavior(TimeSpan.FromSeconds(5)));

        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", text);

        var tool = JsonSerializer.Deserialize<ToolStep>(run.Journal[1].Data, JsonSerializerOptions.Web)!;
        Assert.True(tool.IsError);
        Assert.StartsWith(error, tool.Result);
        Assert.Equal($"done: {tool.Result}", run.Reply);
        var toolMessage = Harness.Model.RequestsFor(text)[^1].Body["messages"]!.AsArray()[^1]!;
        Assert.Equal(("tool", "call_1"), (toolMessage["role"]!.GetValue<string>(), toolMessage["tool_call_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_tool_that_cannot_be_reached_tells_the_model()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:Tools:echo:Url"] = $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}/echo";

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", EchoCall);

        var tool = JsonSerializer.Deserialize<ToolStep>(run.Journal[1].Data, JsonSerializerOptions.Web)!;
        Assert.True(tool.IsError);
        Assert.StartsWith("tool echo could not be reached: ", tool.Result);
    }

    [Fact]
    public async Task A_model_that_keeps_calling_tools_fails_the_turn_at_the_step_limit()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:MaxSteps"] = "4";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", """loop:echo:{"x":1}"""));

        Assert.Equal("stopped after 4 steps: the model kept calling tools", error.Message);
        Assert.Equal(2, Harness.Tools.Calls.Count);
        Assert.Equal(["s1/t1/0/call_1", "s1/t1/2/call_2"], Harness.Tools.Calls.Select(c => c.IdempotencyKey));
    }
}
