using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>A test class of the model agent: a harness of its own (servers, a database) for each test.</summary>
[Collection(PostgresCollection.Name)]
public abstract class ModelAgentTests(PostgresFixture postgres) : IAsyncLifetime
{
    protected ModelAgentHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await ModelAgentHarness.StartAsync(postgres);

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}
