using Orleans.Configuration;
using Orleans.Dashboard;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Hosting;

public static class OrleansClientSetup
{
    /// <summary>
    /// How often the client re-reads the membership table for gateways. Orleans' default (1 minute) would leave a
    /// restarted cluster invisible to the dashboard for that long.
    /// </summary>
    public static readonly TimeSpan GatewayListRefreshPeriod = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a grain call may take. A silo that died mid-call answers never; the default 30 s would freeze an
    /// operator's page for that long. Reads of silo reports use a shorter timeout of their own.
    /// </summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The dashboard as an Orleans client of the gateway cluster: ADO.NET clustering on the silos' PostgreSQL, a
    /// connection that is retried for as long as the process runs, and the official Orleans dashboard's client side.
    /// </summary>
    public static WebApplicationBuilder AddGatewayClusterClient(this WebApplicationBuilder builder, string connectionString, ClusterSettings cluster)
    {
        builder.Services.AddSingleton<ClusterConnection>();
        builder.Services.AddHostedService<ClusterProbe>();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = cluster.ClusterId;
                options.ServiceId = cluster.ServiceId;
            });
            client.UseAdoNetClustering(options =>
            {
                options.Invariant = GatewayDataSource.AdoNetInvariant;
                options.ConnectionString = connectionString;
            });
            client.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = GatewayListRefreshPeriod);
            client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = ResponseTimeout);

            // Registered after Orleans' own defaults, so these are the ones resolved.
            client.Services.AddSingleton<IClientConnectionRetryFilter>(services => services.GetRequiredService<ClusterConnection>());
            client.Services.AddSingleton<IClusterConnectionStatusObserver>(services => services.GetRequiredService<ClusterConnection>());
            client.AddDashboard();
            // Trace context into the silos: an operator request and the grain calls it makes are one trace.
            client.AddActivityPropagation();
        });

        // The client's start waits until a silo answers, which may be never; the web server must not wait with it:
        // the operator API reads PostgreSQL and says "no silo reachable" for what needs a grain.
        builder.Services.Configure<HostOptions>(options =>
        {
            options.ServicesStartConcurrently = true;
            options.ServicesStopConcurrently = true;
        });
        return builder;
    }
}
