using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Orleans.Configuration;
using OrleansGateway;
using OrleansGateway.Agents;
using OrleansGateway.Hosting;
using OrleansGateway.Storage;

namespace Orleans.Hosting;

public static class GatewaySiloBuilderExtensions
{
    /// <summary>The ADO.NET invariant name of Npgsql, as the Orleans providers expect it.</summary>
    public const string NpgsqlInvariant = "Npgsql";

    /// <summary>
    /// The one way to turn a silo into a gateway silo: Orleans clustering, grain storage and reminders on
    /// PostgreSQL through one <see cref="NpgsqlDataSource"/>, the session ledger, and the agent that runs turns.
    /// Endpoints and cluster identity are the host's business (the program, or a test cluster).
    /// </summary>
    public static ISiloBuilder AddOrleansGateway(this ISiloBuilder builder, string connectionString)
    {
        var dataSource = GatewayDataSource.Create(connectionString, "ogw-silo");
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddSingleton<SessionLedger>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<IAgent, ScriptedAgent>();
        builder.Services.AddSingleton<SiloRunState>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloRunState.Participant>();

        builder.UseAdoNetClustering(options =>
        {
            options.Invariant = NpgsqlInvariant;
            options.DataSource = dataSource;
        });
        builder.AddAdoNetGrainStorage(GatewayStorageNames.Sessions, options =>
        {
            options.Invariant = NpgsqlInvariant;
            options.DataSource = dataSource;
        });
        builder.UseAdoNetReminderService(options =>
        {
            options.Invariant = NpgsqlInvariant;
            options.DataSource = dataSource;
        });
        return builder;
    }
}
