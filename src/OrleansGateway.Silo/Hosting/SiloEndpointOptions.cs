using System.Net;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Hosting;

/// <summary>
/// The <c>Orleans</c> configuration section: who this silo is and where it listens. The name, the ports and the
/// advertised address may also be given under Orleans' own keys (<see cref="OrleansKeys"/>); ours are aliases of them.
/// </summary>
public sealed class SiloEndpointOptions
{
    public const string Section = "Orleans";

    /// <summary>
    /// Each of our keys with the key Orleans documents for the same setting. Orleans binds its own keys itself, but
    /// the program configures the endpoints after it, so they take effect only through <see cref="Read"/>.
    /// </summary>
    public static readonly IReadOnlyList<(string Ours, string Orleans)> OrleansKeys =
    [
        ("Orleans:SiloName", "Orleans:Name"),
        ("Orleans:SiloPort", "Orleans:Endpoints:SiloPort"),
        ("Orleans:GatewayPort", "Orleans:Endpoints:GatewayPort"),
        ("Orleans:AdvertisedIP", "Orleans:Endpoints:AdvertisedIPAddress"),
    ];

    public string ClusterId { get; set; } = GatewayDefaults.ClusterId;

    public string ServiceId { get; set; } = GatewayDefaults.ServiceId;

    /// <summary>The name the membership table and the dashboard show for this silo; unset: one Orleans makes up.</summary>
    public string? SiloName { get; set; }

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address other silos and clients use to reach this one. Unset: loopback, for silos side by side on
    /// one machine. Set (a container's address or host name): the silo listens on every interface.
    /// </summary>
    public string? AdvertisedIP { get; set; }

    /// <summary>Every problem with these settings, one sentence each; empty when they are usable.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            yield return "Orleans:ClusterId must not be empty";
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            yield return "Orleans:ServiceId must not be empty";
        }

        foreach (var (name, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort) })
        {
            if (port is < 1 or > 65535)
            {
                yield return $"Orleans:{name} must be a port number (1-65535), not {port}";
            }
        }

        if (SiloPort == GatewayPort)
        {
            yield return $"Orleans:SiloPort and Orleans:GatewayPort must differ (both are {SiloPort})";
        }
    }

    public IPAddress ResolveAdvertisedAddress()
    {
        if (string.IsNullOrWhiteSpace(AdvertisedIP))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(AdvertisedIP, out var address))
        {
            return address;
        }

        return Dns.GetHostAddresses(AdvertisedIP).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            ?? throw new StartupException($"Orleans:AdvertisedIP {AdvertisedIP} does not resolve to an IPv4 address");
    }
}
