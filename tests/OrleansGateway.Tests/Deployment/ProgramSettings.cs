using System.Reflection;
using OrleansGateway.Agents.Model;
using OrleansGateway.Hosting;
using OrleansGateway.Http.Clients;
using OrleansGateway.Resume;
using ClusterSettings = OrleansGateway.Dashboard.Hosting.ClusterSettings;
using DashboardSettings = OrleansGateway.Dashboard.Hosting.DashboardSettings;

namespace OrleansGateway.Tests.Deployment;

/// <summary>
/// The configuration keys each program really reads, taken from its settings classes, so that a deployment file
/// (docker-compose.yml, the Kubernetes manifests) cannot set a key that nothing reads, such as a misspelt one. A key
/// ending in <c>:*</c> stands for every key below it (a dictionary of named entries).
/// </summary>
internal static class ProgramSettings
{
    /// <summary>
    /// The silo: <c>ConnectionStrings:Postgres</c>, <c>Urls</c>, the host's shutdown timeout (the drain budget's bound),
    /// its endpoints under our keys and Orleans' own, the resume and drain settings, the agent's, the API clients and the
    /// request limits.
    /// </summary>
    public static IReadOnlyList<string> Silo { get; } =
    [
        "ConnectionStrings:Postgres",
        "Urls",
        "HostOptions:ShutdownTimeout",
        .. KeysOf(typeof(SiloEndpointOptions), SiloEndpointOptions.Section),
        .. SiloEndpointOptions.OrleansKeys.Select(pair => pair.Orleans),
        .. KeysOf(typeof(SessionResumeOptions), SessionResumeOptions.Section),
        .. KeysOf(typeof(AgentOptions), AgentOptions.Section),
        .. KeysOf(typeof(ApiClientOptions), ApiClientOptions.Section),
        "Kestrel:Limits:*",
    ];

    /// <summary>The dashboard: <c>ConnectionStrings:Postgres</c>, <c>Urls</c>, its cluster settings and the <c>Dashboard</c> section.</summary>
    public static IReadOnlyList<string> Dashboard { get; } =
    [
        "ConnectionStrings:Postgres",
        "Urls",
        .. ClusterSettings.Keys,
        .. KeysOf(typeof(DashboardSettings), DashboardSettings.Section),
    ];

    /// <summary><c>ogw db migrate</c>: the database only.</summary>
    public static IReadOnlyList<string> Cli { get; } = ["ConnectionStrings:Postgres"];

    public static string ToKey(string environmentName) => environmentName.Replace("__", ":", StringComparison.Ordinal);

    public static string ToEnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>Configuration keys are case-insensitive, as <see cref="Microsoft.Extensions.Configuration.IConfiguration"/> reads them.</summary>
    public static bool Reads(IReadOnlyList<string> keys, string key) => keys.Any(pattern => pattern.EndsWith(":*", StringComparison.Ordinal)
        ? key.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase) && key.Length > pattern.Length - 1
        : string.Equals(pattern, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>One line per environment variable of <paramref name="owner"/> that <paramref name="program"/> does not read.</summary>
    public static IEnumerable<string> Unknown(string owner, IEnumerable<string> environmentNames, string program, IReadOnlyList<string> keys) =>
        environmentNames
            .Where(variable => !Reads(keys, ToKey(variable)))
            .Select(variable => $"{owner}: {variable} ({ToKey(variable)}) is not a setting the {program} reads; it reads {string.Join(", ", keys.Order(StringComparer.Ordinal))}");

    /// <summary>Every settable property as a key, nested settings classes as their own keys, dictionaries as <c>:*</c>.</summary>
    private static IEnumerable<string> KeysOf(Type type, string section) => type
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(property => property.SetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0)
        .SelectMany(property => property.PropertyType switch
        {
            { IsGenericType: true } dictionary when dictionary.GetGenericTypeDefinition() == typeof(Dictionary<,>) => [$"{section}:{property.Name}:*"],
            { IsClass: true } nested when nested != typeof(string) => KeysOf(nested, $"{section}:{property.Name}"),
            _ => [$"{section}:{property.Name}"],
        });
}
