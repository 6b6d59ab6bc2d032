using Microsoft.Extensions.Configuration.Memory;
using OrleansGateway.Dashboard.Api;
using OrleansGateway.Dashboard.Auth;
using OrleansGateway.Dashboard.Hosting;
using OrleansGateway.ServiceDefaults;
using OrleansGateway.ServiceDefaults.Telemetry;
using OrleansGateway.Storage;

// Settings beside the binary are found wherever the process is started; the defaults sit below every other source.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = DashboardDefaults.Settings });

WebApplication app;
try
{
    var connectionString = DashboardStartupChecks.RequireConnectionString(builder.Configuration);
    var dashboard = DashboardStartupChecks.ReadDashboardSettings(builder.Configuration);
    var cluster = ClusterSettings.Read(builder.Configuration);
    DashboardStartupChecks.RequireFreeUrls(builder.Configuration);
    await StartupRequirements.RequireDatabaseAsync(connectionString, CancellationToken.None);

    builder.Services.AddSingleton(cluster);
    builder.Services.AddSingleton(_ => GatewayDataSource.Create(connectionString, "ogw-dashboard"));
    builder.Services.AddSingleton<SessionQueries>();
    builder.Services.AddSingleton<EventHistory>();
    builder.Services.AddSingleton<SessionHistory>();
    builder.Services.AddSingleton<OperatorSnapshots>();
    builder.Services.AddSingleton<MembershipTable>();
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddSingleton<SiloDirectory>();
    builder.Services.AddSingleton<OperatorAudit>();
    builder.Services.AddSingleton<PhaseCountHistory>();
    builder.Services.AddHostedService(services => services.GetRequiredService<PhaseCountHistory>());
    builder.Services.AddOperatorAuthentication(new OperatorTokenStore(dashboard));
    builder.AddGatewayClusterClient(connectionString, cluster);
    builder.Services.AddDashboardHealthChecks();
    builder.AddGatewayTelemetry("ogw-dashboard");
    builder.Services.AddOperatorApi();

    app = builder.Build();
    app.UseOperatorApiErrors();
    app.UseOrleansDashboardTokenLinks();
    app.UseAuthentication();
    app.UseAuthorization();
    // The page (wwwroot): public, it holds no data; everything it shows comes from the API with the operator's token.
    app.UseDefaultFiles();
    app.UseStaticFiles(new StaticFileOptions
    {
        // Revalidated on every load, so that a newer dashboard's page is never mixed with an older script.
        OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
    });
    app.MapHealthEndpoints();
    app.MapOperatorApi();
    app.MapApiDocument();
    app.MapOrleansDashboardBehindSignIn();
    app.MapGatewayMetrics();
}
catch (Exception exception)
{
    var reason = exception is StartupException ? exception.Message : exception.GetBaseException().Message;
    Console.Error.WriteLine($"ogw-dashboard: cannot start: {reason}");
    return 1;
}

try
{
    // Returns once every hosted service has started, the Orleans client included: that waits for a silo to answer,
    // while the web server already serves.
    await app.StartAsync();
}
catch (Exception) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
{
    // Stopped (SIGTERM, Ctrl+C) before any silo was reachable.
    await app.StopAsync();
    return 0;
}
catch (Exception exception)
{
    Console.Error.WriteLine($"ogw-dashboard: cannot start: {exception.GetBaseException().Message}");
    return 1;
}

await app.WaitForShutdownAsync();
return 0;
