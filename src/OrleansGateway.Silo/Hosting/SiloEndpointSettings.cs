using OrleansGateway.ServiceDefaults;

namespace OrleansGateway.Hosting;

/// <summary>
/// Reads <see cref="SiloEndpointOptions"/> with Orleans' own keys honoured: a value under an Orleans key counts as if
/// set under our alias. Both set to different values is a mistake nobody should have to debug in a membership table,
/// so it refuses to start, naming both keys.
/// </summary>
public static class SiloEndpointSettings
{
    public static SiloEndpointOptions Read(IConfiguration configuration)
    {
        var conflicts = new List<string>();
        var fromOrleansKeys = new Dictionary<string, string?>();
        foreach (var (ours, orleans) in SiloEndpointOptions.OrleansKeys)
        {
            var oursValue = Value(configuration, ours);
            var orleansValue = Value(configuration, orleans);
            if (orleansValue is null)
            {
                continue;
            }

            if (oursValue is not null && !string.Equals(oursValue, orleansValue, StringComparison.OrdinalIgnoreCase))
            {
                conflicts.Add($"{ours} ({oursValue}) and {orleans} ({orleansValue}) disagree; set only one of them");
            }

            // Bound under our name below, so that a bad value fails as our own key's would.
            fromOrleansKeys[ours] = orleansValue;
        }

        if (conflicts.Count > 0)
        {
            throw new StartupException(string.Join("; ", conflicts));
        }

        var merged = new ConfigurationBuilder()
            .AddConfiguration(configuration)
            .AddInMemoryCollection(fromOrleansKeys)
            .Build();
        return StartupRequirements.ReadSettings<SiloEndpointOptions>(merged, SiloEndpointOptions.Section, options => options.Validate());
    }

    private static string? Value(IConfiguration configuration, string key) =>
        configuration[key] is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
