using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Dashboard;
using OrleansGateway;
using OrleansGateway.Agents;
using OrleansGateway.Hosting;
using OrleansGateway.Operations;
using OrleansGateway.Sessions;
using OrleansGateway.Resume;
using OrleansGateway.Storage;
using OrleansGateway.Streaming;
using OrleansGateway.Upgrade;

namespace Orleans.Hosting;

public static class GatewaySiloBuilderExtensions
{
    /// <summary>
    /// The one way to turn a silo into a gateway silo: Orleans clustering and grain storage on
    /// PostgreSQL through one <see cref="NpgsqlDataSource"/>, the session ledger, the agent that runs turns,
    /// the resume lifecycle (<see cref="SessionResumeSiloBuilderExtensions.AddSessionResume"/>) and the session streams
    /// (<see cref="SessionStreamSiloBuilderExtensions.AddSessionStreams"/>).
    /// Endpoints and cluster identity are the host's business (the program, or a test cluster).
    /// </summary>
    public static ISiloBuilder AddOrleansGateway(this ISiloBuilder builder, string connectionString)
    {
        // Created by the container so that it is disposed (its pool closed) with the silo.
        builder.Services.AddSingleton(_ => GatewayDataSource.Create(connectionString, "ogw-silo"));
        builder.Services.AddSingleton(services => ScopeOf(services));
        builder.Services.AddSingleton<SessionLedger>();
        builder.Services.AddSingleton<SessionQueries>();
        builder.Services.AddSingleton<SessionTranscript>();
        builder.Services.AddSingleton<TurnJournal>();
        builder.Services.AddSingleton<TurnEvents>();
        builder.Services.AddSingleton<LiveTurnEvents>();
        builder.Services.AddSingleton<SiloRegistry>();
        builder.Services.AddOptions<BuildVersionOptions>().BindConfiguration(BuildVersionOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BuildVersionOptions>, BuildVersionOptions.Validator>();
        builder.Services.AddSingleton<SiloVersions>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloVersions.Participant>();
        builder.Services.AddSingleton<EventHistory>();
        builder.Services.AddOptions<EventRetentionOptions>().BindConfiguration(EventRetentionOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EventRetentionOptions>, EventRetentionOptions.Validator>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, EventPruner>();
        builder.Services.AddSingleton<ActiveSessions>();
        builder.Services.AddPlacementDirector<SiloKeyPlacement, SiloKeyPlacementDirector>();
        builder.Services.AddSingleton<ResumeSpread>();
        builder.Services.AddPlacementDirector<LocalUnlessDrainingPlacement, LocalUnlessDrainingPlacementDirector>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddGatewayAgent();
        builder.Services.AddSingleton<SiloRunState>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloRunState.Participant>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloPresenceEvents>();
        builder.AddSessionResume();
        builder.AddSessionStreams();
        builder.AddGatewayMetrics();

        // Orleans' defaults, said out loud because rolling upgrades stand on them: a silo of a newer grain interface
        // version serves the calls of older silos, and the placement director (not Orleans' version selector) prefers
        // the silos of the newest build among the compatible ones.
        builder.Services.Configure<GrainVersioningOptions>(options =>
        {
            options.DefaultCompatibilityStrategy = nameof(Orleans.Versions.Compatibility.BackwardCompatible);
            options.DefaultVersionSelectorStrategy = nameof(Orleans.Versions.Selector.AllCompatibleVersions);
        });

        // Orleans' default directory deactivates the activations whose entries lived on a silo that stops
        // (DirectoryFailure), so a rolling restart would interrupt turns on the silos that keep running. The
        // distributed directory hands its partitions over instead. Experimental in Orleans 10: a switch to go back.
        if (builder.Configuration.GetValue("Gateway:DistributedGrainDirectory", defaultValue: true))
        {
#pragma warning disable ORLEANSEXP003
            builder.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        }

        // The official Orleans dashboard, hosted by OrleansGateway.Dashboard under /orleans, reads its numbers from a
        // service on every silo (grain call profiling, silo counters). A switch for a silo that must not pay for that.
        if (builder.Configuration.GetValue("Gateway:OrleansDashboard", defaultValue: true))
        {
            builder.AddDashboard();
        }

        // Orleans' ADO.NET providers, on the silo's one pool of connections. No reminder service: no grain registers a
        // reminder. Its tables stay (release 0.1 silos still start with them during a rolling upgrade) until a contract
        // script drops them.
        const string invariant = GatewayDataSource.AdoNetInvariant;
        builder.UseAdoNetClustering(options => options.Configure<NpgsqlDataSource>((o, pool) => (o.Invariant, o.DataSource) = (invariant, pool)));
        builder.AddAdoNetGrainStorage(GatewayStorageNames.Sessions,
            options => options.Configure<NpgsqlDataSource>((o, pool) => (o.Invariant, o.DataSource) = (invariant, pool)));
        return builder;
    }

    // The ledger acts for this cluster; the clock of a foreign silo's death follows Orleans' own table timings.
    private static LedgerScope ScopeOf(IServiceProvider services)
    {
        var resume = services.GetRequiredService<IOptions<SessionResumeOptions>>().Value;
        var membership = services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
        var tableDeath = membership.IAmAliveTablePublishTimeout * membership.NumMissedTableIAmAliveLimit * 2;
        var foreign = resume.ForeignSiloTimeout ?? (tableDeath > TimeSpan.FromSeconds(30) ? tableDeath : TimeSpan.FromSeconds(30));
        return new LedgerScope(services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId, foreign, resume.VanishedOwnerGrace);
    }
}
