using System.Net;
using System.Net.Sockets;
using OrleansGateway.Storage;

namespace OrleansGateway.Hosting;

/// <summary>A reason the silo cannot start, said in one line.</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>
/// What must hold before the silo starts. Each failure ends the process at once with one line that says
/// what to fix, instead of a silo that retries forever or dies later with a stack trace.
/// </summary>
public static class StartupChecks
{
    public static string RequireConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } connectionString
            ? connectionString
            : throw new StartupException(
                "ConnectionStrings:Postgres is not set (appsettings.json, the ConnectionStrings__Postgres environment variable, or --ConnectionStrings:Postgres=...)");

    public static SiloEndpointOptions ReadEndpoints(IConfiguration configuration)
    {
        var options = new SiloEndpointOptions();
        try
        {
            configuration.GetSection(SiloEndpointOptions.Section).Bind(options);
        }
        catch (InvalidOperationException exception)
        {
            throw new StartupException($"invalid Orleans settings: {exception.GetBaseException().Message}");
        }

        var problems = options.Validate().ToList();
        return problems.Count == 0 ? options : throw new StartupException(string.Join("; ", problems));
    }

    public static async Task RequireDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        if (await DatabaseReadiness.FindProblemAsync(connectionString, cancellationToken) is { } problem)
        {
            throw new StartupException(problem);
        }
    }

    /// <summary>Fails when another process already listens on a port the silo needs.</summary>
    public static void RequireFreePorts(SiloEndpointOptions options, IPAddress listenAddress)
    {
        foreach (var (name, port) in new[] { ("Orleans:SiloPort", options.SiloPort), ("Orleans:GatewayPort", options.GatewayPort) })
        {
            using var probe = new Socket(listenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(new IPEndPoint(listenAddress, port));
            }
            catch (SocketException exception)
            {
                throw new StartupException($"{name} {port} on {listenAddress} is not available: {exception.Message}");
            }
        }
    }
}
