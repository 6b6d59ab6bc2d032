using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OrleansGateway.Agents;
using OrleansGateway.Storage;
using OrleansGateway.Tests.Infrastructure;

namespace OrleansGateway.Tests.Agents.Model;

/// <summary>
/// The model agent as a silo wires it (<see cref="AgentServiceCollectionExtensions.AddGatewayAgent"/>, bound from configuration
/// keys), against a real scripted model server, a real tool server and a real PostgreSQL transcript; no cluster.
/// </summary>
public sealed class ModelAgentHarness : IAsyncDisposable
{
    public const string ApiKey = "sk-test-7f3a9c-do-not-log";

    /// <summary>
    /// The tools every agent of the harness has: <c>echo</c> takes an integer <c>x</c>; <c>broken</c> and <c>slow</c> are made to
    /// fail and to hang by the tests that use them (<c>slow</c> times out after 300 ms).
    /// </summary>
    public const string EchoSchema = """{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}""";

    private readonly List<ServiceProvider> _providers = [];

    private ModelAgentHarness(ScriptedModelServer model, RecordingToolServer tools, NpgsqlDataSource data) =>
        (Model, Tools, Data) = (model, tools, data);

    public ScriptedModelServer Model { get; }

    public RecordingToolServer Tools { get; }

    public NpgsqlDataSource Data { get; }

    public SessionTranscript Transcript => new(Data);

    public RecordingLoggerProvider Logs { get; } = new();

    public static async Task<ModelAgentHarness> StartAsync(PostgresFixture postgres)
    {
        var model = await ScriptedModelServer.StartAsync();
        var tools = await RecordingToolServer.StartAsync();
        var data = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync("agent"));
        return new ModelAgentHarness(model, tools, data);
    }

    public Dictionary<string, string?> Settings() => new()
    {
        ["Gateway:Agent:Provider"] = "openai",
        ["Gateway:Agent:OpenAI:Endpoint"] = Model.Endpoint,
        ["Gateway:Agent:OpenAI:Model"] = "test-model",
        ["Gateway:Agent:OpenAI:ApiKey"] = ApiKey,
        ["Gateway:Agent:OpenAI:Timeout"] = "00:00:05",
        ["Gateway:Agent:OpenAI:MaxRetries"] = "2",
        ["Gateway:Agent:SystemPrompt"] = "You are a test.",
        ["Gateway:Agent:Tools:echo:Url"] = Tools.Url("echo"),
        ["Gateway:Agent:Tools:echo:Description"] = "Echoes its arguments",
        ["Gateway:Agent:Tools:echo:Parameters"] = EchoSchema,
        ["Gateway:Agent:Tools:broken:Url"] = Tools.Url("broken"),
        ["Gateway:Agent:Tools:slow:Url"] = Tools.Url("slow"),
        ["Gateway:Agent:Tools:slow:Timeout"] = "00:00:00.300",
    };

    /// <summary>The services of a silo with <paramref name="settings"/> (the defaults when null).</summary>
    public ServiceProvider Services(IDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? Settings()).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace))
            .AddSingleton(TimeProvider.System)
            .AddSingleton(Transcript);
        services.AddGatewayAgent();
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider;
    }

    public IAgent Agent(IDictionary<string, string?>? settings = null) => Services(settings).GetRequiredService<IAgent>();

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await Model.DisposeAsync();
        await Tools.DisposeAsync();
        await Data.DisposeAsync();
    }
}
