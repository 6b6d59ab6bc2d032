using Microsoft.Extensions.Configuration;
using OrleansGateway.Hosting;
using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Tests.Cluster;

/// <summary>Orleans' own endpoint keys and ours, which are aliases of them.</summary>
public sealed class SiloEndpointSettingsTests
{
    [Fact]
    public void Orleans_own_keys_set_the_name_ports_and_advertised_address()
    {
        var options = Read(new()
        {
            ["Orleans:Name"] = "pod-0",
            ["Orleans:Endpoints:SiloPort"] = "12111",
            ["Orleans:Endpoints:GatewayPort"] = "31000",
            ["Orleans:Endpoints:AdvertisedIPAddress"] = "10.1.2.3",
        });

        Assert.Equal(("pod-0", 12111, 31000, "10.1.2.3"), (options.SiloName, options.SiloPort, options.GatewayPort, options.AdvertisedIP));
    }

    [Fact]
    public void Our_keys_still_work_and_the_defaults_hold_without_either()
    {
        var ours = Read(new() { ["Orleans:SiloName"] = "silo1", ["Orleans:SiloPort"] = "11112", ["Orleans:AdvertisedIP"] = "silo1" });
        var none = Read([]);

        Assert.Equal(("silo1", 11112, 30000, "silo1"), (ours.SiloName, ours.SiloPort, ours.GatewayPort, ours.AdvertisedIP));
        Assert.Equal((null, 11111, 30000, null), (none.SiloName, none.SiloPort, none.GatewayPort, none.AdvertisedIP));
    }

    [Fact]
    public void Both_keys_with_the_same_value_are_fine()
    {
        var options = Read(new() { ["Orleans:SiloPort"] = "12111", ["Orleans:Endpoints:SiloPort"] = " 12111 " });

        Assert.Equal(12111, options.SiloPort);
    }

    [Fact]
    public void Both_keys_with_different_values_are_refused_in_one_line_naming_both()
    {
        var refusal = Assert.Throws<StartupException>(() => Read(new()
        {
            ["Orleans:GatewayPort"] = "30000",
            ["Orleans:Endpoints:GatewayPort"] = "30001",
        }));

        Assert.Equal("Orleans:GatewayPort (30000) and Orleans:Endpoints:GatewayPort (30001) disagree; set only one of them", refusal.Message);
    }

    [Fact]
    public void A_bad_value_under_an_Orleans_key_fails_the_validation()
    {
        var refusal = Assert.Throws<StartupException>(() => Read(new() { ["Orleans:Endpoints:SiloPort"] = "70000" }));

        Assert.Contains("must be a port number (1-65535), not 70000", refusal.Message);
    }

    private static SiloEndpointOptions Read(Dictionary<string, string?> settings) =>
        SiloEndpointSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
}
