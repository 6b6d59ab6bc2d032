using Orleans.TestingHost;
using OrleansGateway.Sessions;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>The model agent in a silo wired by <c>AddOrleansGateway</c>, chosen by <c>Gateway:Agent:Provider</c>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ModelAgentClusterTests(PostgresFixture postgres) : IAsyncLifetime
{
    private ScriptedModelServer _model = null!;
    private RecordingToolServer _tools = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _model = await ScriptedModelServer.StartAsync();
        _tools = await RecordingToolServer.StartAsync();
        _cluster = await GatewayTestCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("agentcluster"), silos: 1, new Dictionary<string, string?>
        {
            ["Gateway:Agent:Provider"] = "openai",
            ["Gateway:Agent:OpenAI:Endpoint"] = _model.Endpoint,
            ["Gateway:Agent:OpenAI:Model"] = "test-model",
            ["Gateway:Agent:MaxSteps"] = "5",
            ["Gateway:Agent:Tools:lookup:Url"] = _tools.Url("lookup"),
            ["Gateway:Agent:Tools:lookup:Parameters"] = """{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}""",
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _model.DisposeAsync();
        await _tools.DisposeAsync();
    }

    [Fact]
    public async Task A_tool_turn_runs_through_the_grain_with_its_usage_and_a_looping_model_fails_clearly()
    {
        var session = _cluster.Client.GetGrain<ISessionGrain>("tools");

        await session.PostMessageAsync(new SessionMessage("m1", """tool:lookup:{"q":"x"}"""));
        await session.PostMessageAsync(new SessionMessage("m2", """loop:lookup:{"q":"again"}"""));
        IReadOnlyList<TurnView> turns = [];
        await Eventually.UntilAsync(async () =>
            {
                turns = (await session.GetTurnPageAsync(null, 20))?.Turns ?? [];
                return turns.Count == 2 && turns.All(t => t.Status is TurnStatus.Completed or TurnStatus.Failed);
            },
            TimeSpan.FromSeconds(30), () => $"the turns did not finish: {string.Join("; ", turns)}");

        var (looped, tool) = (turns[0], turns[1]);
        Assert.Equal((TurnStatus.Completed, "done: lookup got {\"q\":\"x\"}", 3), (tool.Status, tool.Reply, tool.StepsDone));
        Assert.Equal(new TokenUsage(2 * ChatCompletionWriter.PromptTokens, 2 * ChatCompletionWriter.CompletionTokens), tool.Usage);
        Assert.Equal(TurnStatus.Failed, looped.Status);
        Assert.Contains("stopped after 5 steps: the model kept calling tools", looped.Error);
        Assert.Equal(new TokenUsage(3 * ChatCompletionWriter.PromptTokens, 3 * ChatCompletionWriter.CompletionTokens), looped.Usage);
        Assert.Equal(3, _tools.Calls.Count);
        Assert.Equal(3, _tools.Calls.Select(call => call.IdempotencyKey).Distinct().Count());
    }

    [Fact]
    public async Task A_session_asks_the_model_and_the_next_turn_shows_it_the_earlier_one()
    {
        var session = _cluster.Client.GetGrain<ISessionGrain>("chat");

        await session.PostMessageAsync(new SessionMessage("m1", "hello"));
        await session.PostMessageAsync(new SessionMessage("m2", "history"));
        IReadOnlyList<TurnView> turns = [];
        await Eventually.UntilAsync(async () =>
            {
                turns = (await session.GetTurnPageAsync(null, 20))?.Turns ?? [];
                return turns.Count == 2 && turns.All(t => t.Status == TurnStatus.Completed);
            },
            TimeSpan.FromSeconds(30), () => $"the turns did not complete: {string.Join("; ", turns)}");

        Assert.Equal(["history: user:hello | assistant:echo: hello", "echo: hello"], turns.Select(t => t.Reply));
    }
}
