using System.Net;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Hosting;

/// <summary>
/// What must hold before the silo starts, besides what every process checks (<see cref="StartupRequirements"/>). Each
/// failure ends the process at once with one line that says what to fix, instead of a silo that retries forever or dies
/// later with a stack trace.
/// </summary>
public static class SiloStartupChecks
{
    public static string RequireConnectionString(IConfiguration configuration) =>
        StartupRequirements.RequireConnectionString(configuration,
            "appsettings.json, the ConnectionStrings__Postgres environment variable, or --ConnectionStrings:Postgres=...");

    public static SiloEndpointOptions ReadEndpoints(IConfiguration configuration) => SiloEndpointSettings.Read(configuration);

    /// <summary>Fails when another process already listens on a port the silo needs.</summary>
    public static void RequireFreePorts(SiloEndpointOptions options, IPAddress listenAddress)
    {
        foreach (var (name, port) in new[] { ("Orleans:SiloPort", options.SiloPort), ("Orleans:GatewayPort", options.GatewayPort) })
        {
            StartupRequirements.RequireFreePort(listenAddress, port, $"{name} {port} on {listenAddress}");
        }
    }

    /// <summary>Fails when another process already listens on a port of <c>Urls</c>, before the silo joins its cluster.</summary>
    public static void RequireFreeUrls(IConfiguration configuration) =>
        StartupRequirements.RequireFreeUrls(configuration);
}
