using Microsoft.Extensions.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace OrleansGateway.Tests.Infrastructure;

/// <summary>
/// An in-process Orleans cluster wired exactly as the silo program wires itself
/// (<see cref="GatewaySiloBuilderExtensions.AddOrleansGateway"/>), with real ADO.NET clustering, storage and
/// reminders on the test's PostgreSQL database instead of the test membership.
/// </summary>
public static class GatewayTestCluster
{
    public static async Task<TestCluster> StartAsync(string connectionString, short silos = 3)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.UseTestClusterMembership = false;
        builder.ConfigureHostConfiguration(configuration =>
            configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString }));
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddOrleansGateway(siloBuilder.Configuration.GetConnectionString("Postgres")!);
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = GatewaySiloBuilderExtensions.NpgsqlInvariant;
                options.ConnectionString = configuration.GetConnectionString("Postgres");
            });
    }
}
