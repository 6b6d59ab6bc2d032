using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Hosting;

/// <summary>
/// What must hold before the dashboard starts, besides what every process checks (<see cref="StartupRequirements"/>):
/// a way to authenticate operators, and URLs it can listen on. Each failure ends the process at once with one line,
/// as the silo does.
/// </summary>
public static class DashboardStartupChecks
{
    public static string RequireConnectionString(IConfiguration configuration) =>
        StartupRequirements.RequireConnectionString(configuration,
            "the ConnectionStrings__Postgres environment variable, an appsettings.json beside the binary, or --ConnectionStrings:Postgres=...");

    public static DashboardSettings ReadDashboardSettings(IConfiguration configuration) =>
        StartupRequirements.ReadSettings<DashboardSettings>(configuration, DashboardSettings.Section, settings => settings.Validate());

    /// <summary>Fails when another process already listens where the dashboard would.</summary>
    public static void RequireFreeUrls(IConfiguration configuration) =>
        StartupRequirements.RequireFreeUrls(configuration);
}
