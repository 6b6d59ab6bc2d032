using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Dashboard.Hosting;

/// <summary>
/// The settings the dashboard shares with the silos: which cluster it is a client of (<c>Orleans:ClusterId</c>,
/// <c>Orleans:ServiceId</c>), and when a resume marker counts as stale (<c>Gateway:Resume:FreshnessWindow</c>).
/// </summary>
public sealed record ClusterSettings(string ClusterId, string ServiceId, TimeSpan FreshnessWindow)
{
    /// <summary>The configuration keys behind these settings, for documentation and the compose file check.</summary>
    public static readonly IReadOnlyList<string> Keys = ["Orleans:ClusterId", "Orleans:ServiceId", "Gateway:Resume:FreshnessWindow"];

    public static ClusterSettings Read(IConfiguration configuration)
    {
        var clusterId = configuration["Orleans:ClusterId"] is { Length: > 0 } id ? id : GatewayDefaults.ClusterId;
        var serviceId = configuration["Orleans:ServiceId"] is { Length: > 0 } service ? service : GatewayDefaults.ServiceId;
        var freshness = GatewayDefaults.FreshnessWindow;
        if (configuration["Gateway:Resume:FreshnessWindow"] is { Length: > 0 } text)
        {
            if (!TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out freshness) || freshness <= TimeSpan.Zero)
            {
                throw new StartupException($"Gateway:Resume:FreshnessWindow must be a positive time span (hh:mm:ss), not '{text}'");
            }
        }

        return new ClusterSettings(clusterId.Trim(), serviceId.Trim(), freshness);
    }
}
