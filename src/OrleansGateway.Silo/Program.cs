using Orleans.Configuration;
using System.Net;
using OrleansGateway.Resume;
using OrleansGateway.Hosting;
using OrleansGateway.Http;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.ServiceDefaults.Telemetry;
using OrleansGateway.Storage;

// The settings file next to the binary is found wherever the process is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
WebApplication? app = null;
try
{
    var connectionString = SiloStartupChecks.RequireConnectionString(builder.Configuration);
    var endpoints = SiloStartupChecks.ReadEndpoints(builder.Configuration);
    var advertised = endpoints.ResolveAdvertisedAddress();
    var listenOnAnyAddress = !IPAddress.IsLoopback(advertised);
    SiloStartupChecks.RequireFreePorts(endpoints, listenOnAnyAddress ? IPAddress.Any : advertised);
    SiloStartupChecks.RequireFreeUrls(builder.Configuration);
    await StartupRequirements.RequireDatabaseAsync(connectionString, CancellationToken.None);

    // HostOptions:ShutdownTimeout bounds the whole stop, the drain included (checked against Gateway:Resume at start).
    builder.Services.Configure<HostOptions>(builder.Configuration.GetSection("HostOptions"));
    builder.Services.AddHostedService<SiloStopsBeforeHttp>();
    builder.Services.AddSiloHealthChecks();
    builder.AddGatewayTelemetry("ogw-silo");
    builder.Services.AddSessionApi();
    builder.UseOrleans(silo =>
    {
        silo.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = endpoints.ClusterId;
            options.ServiceId = endpoints.ServiceId;
        });
        silo.ConfigureEndpoints(advertised, endpoints.SiloPort, endpoints.GatewayPort, listenOnAnyAddress);
        if (!string.IsNullOrWhiteSpace(endpoints.SiloName))
        {
            silo.Configure<SiloOptions>(options => options.SiloName = endpoints.SiloName);
        }

        // Failure detection timings (ProbeTimeout, NumMissedProbesLimit, IAmAliveTablePublishTimeout, ...):
        // Orleans' defaults unless Orleans:Membership says otherwise.
        silo.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Orleans:Membership"));

        // The grain directory's lease on a crashed silo's grains (RangeLeaseDuration), which must follow the failure
        // detection above: Orleans' defaults unless Orleans:Directory says otherwise. Not Orleans:GrainDirectory, where
        // Orleans looks for grain directory providers.
        silo.Services.Configure<GrainDirectoryOptions>(builder.Configuration.GetSection("Orleans:Directory"));
        silo.AddOrleansGateway(connectionString);
    });

    app = builder.Build();
    app.UseSessionApi();
    app.MapGatewayMetrics();
    app.MapApiDocument();
    await app.StartAsync();
}
catch (Exception exception)
{
    // Kestrel's own message names the address it could not bind; deeper ones only the socket error.
    var reason = exception is StartupException or IOException ? exception.Message : exception.GetBaseException().Message;
    Console.Error.WriteLine($"ogw-silo: cannot start: {reason}");
    if (app is not null)
    {
        // A failure once the host started (Kestrel binds after Orleans): the silo may have joined the cluster and claimed
        // sessions to resume. Leave gracefully, as on SIGTERM (premark, drain, membership row Dead), so that the other
        // silos resume them now rather than once this one is voted dead. A host that never started stops at once.
        try
        {
            await app.StopAsync();
        }
        catch (Exception stopException)
        {
            Console.Error.WriteLine($"ogw-silo: stopping after the failed start failed too: {stopException.GetBaseException().Message}");
        }

        await app.DisposeAsync();
    }

    return 1;
}

await app.WaitForShutdownAsync();
return app.Services.GetRequiredService<SiloRunState>().ExitCode;
