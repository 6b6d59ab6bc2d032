using System.Collections.Concurrent;
using OrleansGateway.Agents;
using OrleansGateway.Agents.Model;
using OrleansGateway.Sessions;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>The model agent's answers and the model's failures, against a real OpenAI-compatible server.</summary>
public sealed class OpenAIAgentReplyTests(PostgresFixture postgres) : ModelAgentTests(postgres)
{
    [Fact]
    public async Task A_plain_answer_completes_the_turn_in_one_step_with_its_usage()
    {
        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", "hello");

        Assert.Equal("echo: hello", run.Reply);
        Assert.Empty(run.Journal);
        Assert.Equal(new TokenUsage(ChatCompletionWriter.PromptTokens, ChatCompletionWriter.CompletionTokens), run.Usage);
        var request = Assert.Single(Harness.Model.Requests);
        Assert.True(request.Stream);
        Assert.Equal("test-model", request.Body["model"]!.GetValue<string>());
        Assert.Equal("You are a test.", request.Body["messages"]![0]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_streamed_answer_reaches_the_live_output_chunk_by_chunk()
    {
        var output = new RecordingOutput();

        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", "stream:5:30", output: output);

        Assert.Equal("w1 w2 w3 w4 w5 ", run.Reply);
        Assert.Equal(["w1 ", "w2 ", "w3 ", "w4 ", "w5 "], output.Deltas);
    }

    [Fact]
    public async Task The_model_sees_the_sessions_earlier_completed_turns_oldest_first_up_to_the_setting()
    {
        var at = DateTimeOffset.UtcNow;
        await Harness.Transcript.AppendAsync("s1", [
            new FinishedTurn(1, "m1", "first", TurnStatus.Completed, 1, 1, 1, "one", null, at, at),
            new FinishedTurn(2, "m2", "second", TurnStatus.Failed, 1, 1, 1, null, "boom", at, at),
            new FinishedTurn(3, "m3", "third", TurnStatus.Completed, 1, 1, 1, "three", null, at, at),
            new FinishedTurn(4, "m4", "fourth", TurnStatus.Completed, 1, 1, 1, "four", null, at, at),
        ]);
        var settings = Harness.Settings();
        settings["Gateway:Agent:HistoryTurns"] = "2";

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t5", "history");

        Assert.Equal("history: system:You are a test. | user:third | assistant:three | user:fourth | assistant:four", run.Reply);
    }

    [Fact]
    public async Task A_model_that_keeps_failing_fails_the_turn_after_the_retries_with_the_status()
    {
        var error = await Assert.ThrowsAsync<ModelCallException>(() => TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", "status:500"));

        Assert.Contains("HTTP 500 (after 2 retries)", error.Message);
        Assert.Contains("scripted status 500", error.Message);
        Assert.Equal(3, Harness.Model.RequestsFor("status:500").Count);
    }

    [Fact]
    public async Task A_refusal_that_retrying_cannot_cure_fails_the_turn_at_once()
    {
        var error = await Assert.ThrowsAsync<ModelCallException>(() => TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", "status:401"));

        Assert.Contains("HTTP 401: ", error.Message);
        Assert.DoesNotContain("retries", error.Message);
        Assert.Single(Harness.Model.RequestsFor("status:401"));
    }

    [Fact]
    public async Task A_429_is_retried_and_the_turn_goes_on()
    {
        var run = await TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", "flaky:429:2");

        Assert.Equal("recovered", run.Reply);
        Assert.Equal(3, Harness.Model.RequestsFor("flaky:429:2").Count);
    }

    [Fact]
    public async Task An_answer_that_is_not_json_fails_the_step_clearly()
    {
        var error = await Assert.ThrowsAsync<ModelCallException>(() => TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", "malformed"));

        Assert.Contains("not valid JSON", error.Message);
    }

    [Fact]
    public async Task A_model_that_does_not_answer_in_time_fails_the_step_clearly()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:OpenAI:Timeout"] = "00:00:00.300";
        settings["Gateway:Agent:OpenAI:MaxRetries"] = "1";

        var error = await Assert.ThrowsAsync<ModelCallException>(() => TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", "slow:3000"));

        Assert.Contains("no answer within 0.3 s (after 1 retry)", error.Message);
        Assert.Equal(2, Harness.Model.RequestsFor("slow:3000").Count);
    }

    [Fact]
    public async Task The_timeout_bounds_the_wait_for_each_chunk_not_a_whole_stream()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:OpenAI:Timeout"] = "00:00:00.400";

        var run = await TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", "stream:6:150");

        Assert.Equal("w1 w2 w3 w4 w5 w6 ", run.Reply);
        Assert.Single(Harness.Model.Requests);
    }

    [Fact]
    public async Task A_model_server_that_cannot_be_reached_fails_the_step_clearly()
    {
        var settings = Harness.Settings();
        settings["Gateway:Agent:OpenAI:Endpoint"] = $"http://127.0.0.1:{PostgresFixture.FreeTcpPort()}/v1";
        settings["Gateway:Agent:OpenAI:MaxRetries"] = "0";

        var error = await Assert.ThrowsAsync<ModelCallException>(() => TurnDriver.RunAsync(Harness.Agent(settings), "s1", "t1", "hello"));

        Assert.Contains("the server cannot be reached", error.Message);
    }

    [Fact]
    public async Task Tool_call_arguments_that_are_not_json_fail_the_step_clearly()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => TurnDriver.RunAsync(Harness.Agent(), "s1", "t1", """tool:echo:{"x":"""));

        Assert.StartsWith("the model's call of tool echo has arguments that cannot be read", error.Message);
        Assert.Empty(Harness.Tools.Calls);
    }

    [Fact]
    public async Task A_streaming_model_call_stops_when_the_step_is_cancelled()
    {
        var agent = Harness.Agent();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => agent.RunStepAsync(new AgentStep("s1", "t1", "stream:100:100", 0), cancel.Token));
    }

    [Fact]
    public async Task The_api_key_is_sent_but_never_logged()
    {
        var agent = Harness.Agent();
        await TurnDriver.RunAsync(agent, "s1", "t1", "hello");
        await TurnDriver.RunAsync(agent, "s1", "t2", "tool:echo:{\"x\":1}");
        await Assert.ThrowsAsync<ModelCallException>(() => TurnDriver.RunAsync(agent, "s1", "t3", "status:500"));

        Assert.All(Harness.Model.Requests, request => Assert.Equal($"Bearer {ModelAgentHarness.ApiKey}", request.Authorization));
        // The OpenAI client's own request log is among them: the place a key would leak from.
        Assert.Contains(Harness.Logs.Lines, line => line.Contains("/v1/chat/completions", StringComparison.Ordinal));
        Assert.DoesNotContain(Harness.Logs.Lines, line => line.Contains(ModelAgentHarness.ApiKey, StringComparison.Ordinal));
    }

    private sealed class RecordingOutput : IStepOutput
    {
        private readonly ConcurrentQueue<string> _deltas = new();

        public IReadOnlyList<string> Deltas => [.. _deltas];

        public void TextDelta(string text) => _deltas.Enqueue(text);
    }
}
