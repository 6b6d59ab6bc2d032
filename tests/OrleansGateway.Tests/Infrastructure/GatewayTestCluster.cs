using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansGateway.Agents;
using OrleansGateway.Storage;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// An in-process Orleans cluster wired exactly as the silo program wires itself
/// (<see cref="GatewaySiloBuilderExtensions.AddOrleansGateway"/>), with real ADO.NET clustering, storage and
/// reminders on the test's PostgreSQL database instead of the test membership.
/// </summary>
public static class GatewayTestCluster
{
    /// <summary>Setting that makes every silo run turns through the <see cref="StepRecorder"/>.</summary>
    public const string RecordStepsKey = "Test:RecordSteps";

    /// <summary>Setting that makes every silo run turns through the <see cref="JournalingAgent"/>.</summary>
    public const string JournalStepsKey = "Test:JournalSteps";

    /// <summary>Setting that sets every silo's wall clock off the database's by this time span (hh:mm:ss, may be negative).</summary>
    public const string ClockOffsetKey = "Test:ClockOffset";

    public static async Task<TestCluster> StartAsync(string connectionString, short silos = 3, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.UseTestClusterMembership = false;
        builder.ConfigureHostConfiguration(configuration =>
        {
            configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString });
            if (settings is not null)
            {
                configuration.AddInMemoryCollection(settings);
            }
        });
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            if (siloBuilder.Configuration.GetValue<bool>(RecordStepsKey))
            {
                siloBuilder.Services.AddSingleton<IAgent>(services => new StepRecorder(
                    new ScriptedAgent(TimeProvider.System, services.GetRequiredService<IOptions<ScriptedAgentOptions>>(),
                        services.GetRequiredService<StepTraceWriter>())));
            }

            if (siloBuilder.Configuration.GetValue<bool>(JournalStepsKey))
            {
                siloBuilder.Services.AddSingleton<IAgent, JournalingAgent>();
            }

            if (siloBuilder.Configuration.GetValue<TimeSpan?>(ClockOffsetKey) is { } offset)
            {
                siloBuilder.Services.AddSingleton<TimeProvider>(new OffsetClock(offset));
            }

            siloBuilder.AddOrleansGateway(siloBuilder.Configuration.GetConnectionString("Postgres")!);
        }
    }

    /// <summary>A wall clock that is off by <paramref name="offset"/>; timers and timestamps run as the system's.</summary>
    private sealed class OffsetClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = GatewayDataSource.AdoNetInvariant;
                options.ConnectionString = configuration.GetConnectionString("Postgres");
            });
    }
}

/// <summary>
/// The scripted agent, watched: every step start of every silo of the process, in order, with its resume note.
/// What proves that a resumed turn continues after its checkpoint instead of starting over.
/// </summary>
public sealed class StepRecorder(IAgent inner) : IAgent
{
    public static ConcurrentQueue<AgentStep> Started { get; } = new();

    public string? Validate(string text) => inner.Validate(text);

    public int? PlannedSteps(string text) => inner.PlannedSteps(text);

    public Task<AgentStepResult> RunStepAsync(AgentStep step, CancellationToken cancellationToken)
    {
        Started.Enqueue(step);
        return inner.RunStepAsync(step, cancellationToken);
    }
}
