using Orleans.TestingHost;
using OrleansGateway.Sessions;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>The model agent in a silo wired by <c>AddOrleansGateway</c>, chosen by <c>Gateway:Agent:Provider</c>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ModelAgentClusterTests(PostgresFixture postgres) : IAsyncLifetime
{
    private ScriptedModelServer _model = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _model = await ScriptedModelServer.StartAsync();
        _cluster = await GatewayTestCluster.StartAsync(await postgres.CreateMigratedDatabaseAsync("agentcluster"), silos: 1, new Dictionary<string, string?>
        {
            ["Gateway:Agent:Provider"] = "openai",
            ["Gateway:Agent:OpenAI:Endpoint"] = _model.Endpoint,
            ["Gateway:Agent:OpenAI:Model"] = "test-model",
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _model.DisposeAsync();
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
