using System.Net;
using System.Net.Sockets;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Hosting;

/// <summary>A reason the dashboard cannot start, said in one line.</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>
/// What must hold before the dashboard starts: a way to authenticate operators, a database it can read, at the
/// schema version of this build. Each failure ends the process at once with one line, as the silo does.
/// </summary>
public static class StartupChecks
{
    public static string RequireConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } connectionString
            ? connectionString
            : throw new StartupException(
                "ConnectionStrings:Postgres is not set (the ConnectionStrings__Postgres environment variable, an appsettings.json beside the binary, or --ConnectionStrings:Postgres=...)");

    public static DashboardSettings ReadDashboardSettings(IConfiguration configuration)
    {
        var settings = new DashboardSettings();
        try
        {
            configuration.GetSection(DashboardSettings.Section).Bind(settings);
        }
        catch (InvalidOperationException exception)
        {
            throw new StartupException($"invalid Dashboard settings: {exception.GetBaseException().Message}");
        }

        var problems = settings.Validate().ToList();
        return problems.Count == 0 ? settings : throw new StartupException(string.Join("; ", problems));
    }

    public static async Task RequireDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        if (await DatabaseReadiness.FindProblemAsync(connectionString, cancellationToken) is { } problem)
        {
            throw new StartupException(problem);
        }
    }

    /// <summary>
    /// Fails when another process already listens where the dashboard would. Kestrel would say so too, but only once
    /// every hosted service has started, and the Orleans client's start waits for a silo.
    /// </summary>
    public static void RequireFreeUrls(IConfiguration configuration)
    {
        var urls = configuration["Urls"] ?? "";
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            BindingAddress binding;
            try
            {
                binding = BindingAddress.Parse(url);
            }
            catch (FormatException exception)
            {
                throw new StartupException($"Urls: '{url}' is not a URL to listen on: {exception.Message}");
            }

            if (binding.Port == 0)
            {
                continue;
            }

            var address = binding.Host switch
            {
                "localhost" => IPAddress.Loopback,
                _ when IPAddress.TryParse(binding.Host.Trim('[', ']'), out var ip) => ip,
                _ => IPAddress.Any,
            };
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(new IPEndPoint(address, binding.Port));
            }
            catch (SocketException exception)
            {
                throw new StartupException($"Urls: {url} is not available: {exception.Message}");
            }
        }
    }
}
