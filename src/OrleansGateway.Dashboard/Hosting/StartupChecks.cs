using System.Net;
using OrleansGateway.Storage;

namespace OrleansGateway.Dashboard.Hosting;

/// <summary>
/// What must hold before the dashboard starts, besides what every process checks (<see cref="StartupRequirements"/>):
/// a way to authenticate operators, and URLs it can listen on. Each failure ends the process at once with one line,
/// as the silo does.
/// </summary>
public static class StartupChecks
{
    public static string RequireConnectionString(IConfiguration configuration) =>
        StartupRequirements.RequireConnectionString(configuration,
            "the ConnectionStrings__Postgres environment variable, an appsettings.json beside the binary, or --ConnectionStrings:Postgres=...");

    public static DashboardSettings ReadDashboardSettings(IConfiguration configuration) =>
        StartupRequirements.ReadSettings<DashboardSettings>(configuration, DashboardSettings.Section, settings => settings.Validate());

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
            StartupRequirements.RequireFreePort(address, binding.Port, $"Urls: {url}");
        }
    }
}
